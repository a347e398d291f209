# Copyright 2026 Ad Hoc Mirror authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

inherit acct-group

DESCRIPTION="Group for the Ad Hoc Mirror coordinator service"
# An overlay has no UID/GID registry entry: let the system pick a free id.
ACCT_GROUP_ID=-1
