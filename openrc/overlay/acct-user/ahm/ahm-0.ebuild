# Copyright 2026 Ad Hoc Mirror authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

inherit acct-user

DESCRIPTION="User for the Ad Hoc Mirror volunteer daemon"
# An overlay has no UID/GID registry entry: let the system pick a free id.
ACCT_USER_ID=-1
ACCT_USER_GROUPS=( ahm )
ACCT_USER_HOME=/var/lib/ahm-daemon
ACCT_USER_HOME_PERMS=0750

acct-user_add_deps
