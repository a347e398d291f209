# Copyright 2026 Ad Hoc Mirror authors
# Distributed under the terms of the GNU General Public License v2

"""The repos.conf keys of sync-type = ahm, read and checked once for both the
config check (when portage loads repos.conf) and the sync (which refuses to
run on a setting that is wrong)."""

import os
import shlex
import sys

from portage.util import writemsg_level

PROTOCOLS = ("rsync", "git")

OPTIONS = (
    "sync-ahm-protocol",
    "sync-ahm-official",
    "sync-ahm-coordinator-trust",
    "sync-rsync-extra-opts",
)

# rsync options of sync-rsync-extra-opts that keep their meaning under ahm-sync:
# how to reach a mirror and how fast, never which files arrive (every tree is
# verified in full, so an --exclude would only make verification fail).
RSYNC_OPTS_KEPT = ("--bwlimit=", "--address=", "--sockopts=", "--ipv4", "-4", "--ipv6", "-6")

_RSYNC_SCHEMES = ("rsync://", "/")
_GIT_SCHEMES = ("git://", "https://", "http://", "ssh://", "/")


# Messages already shown in this process tree: portage loads repos.conf more than once and forks each sync from the
# process that loaded it, so each problem is said once.
_shown = set()


def show_once(message, level):
    """Prints "!!! message" unless it was printed before; returns whether it was printed now."""
    if message in _shown:
        return False
    _shown.add(message)
    writemsg_level(f"!!! {message}\n", level=level, noiselevel=-1)
    return True


def _kept(option):
    return any(
        option.startswith(kept) and len(option) > len(kept) if kept.endswith("=") else option == kept
        for kept in RSYNC_OPTS_KEPT
    )


class AhmSettings:
    """What one repository's repos.conf entry asks of ahm-sync."""

    def __init__(self, repo):
        opts = repo.module_specific_options
        self.name = repo.name
        self.coordinator = (repo.sync_uri or "").strip()
        self.protocol = opts.get("sync-ahm-protocol", "").strip().lower() or None
        self.official = opts.get("sync-ahm-official", "").split()
        self.trust = opts.get("sync-ahm-coordinator-trust", "").strip() or None
        self.keyring = (repo.sync_openpgp_key_path or "").strip() or None
        try:
            extra = shlex.split(opts.get("sync-rsync-extra-opts", ""))
        except ValueError:
            extra = [opts.get("sync-rsync-extra-opts", "")]
        self.rsync_opts = [o for o in extra if _kept(o)]
        self.rsync_opts_ignored = [o for o in extra if o not in self.rsync_opts]

    def errors(self):
        """Settings ahm-sync cannot run with: each a message naming the key."""
        errors = []
        repo = f"Repository '{self.name}'"
        if not self.coordinator:
            errors.append(
                f"{repo} has sync-type attribute, but is missing sync-uri attribute"
            )
        else:
            # Several coordinators (on one database) may be listed, separated by spaces or commas.
            for uri in self.coordinator.replace(",", " ").split():
                if not uri.startswith(("http://", "https://")):
                    errors.append(
                        f"{repo}: sync-uri must be the coordinator's URL (http://HOST:PORT or "
                        f"https://HOST:PORT), or several, with sync-type = ahm, not '{uri}' "
                        "(an official mirror goes into sync-ahm-official)"
                    )
                    break
        if self.protocol is not None and self.protocol not in PROTOCOLS:
            errors.append(
                f"{repo}: sync-ahm-protocol not one of: {{rsync, git}}: '{self.protocol}'"
            )
        schemes = {
            "rsync": _RSYNC_SCHEMES,
            "git": _GIT_SCHEMES,
            None: _RSYNC_SCHEMES + _GIT_SCHEMES,
        }.get(self.protocol, ())
        for uri in self.official:
            if schemes and not uri.startswith(schemes):
                errors.append(
                    f"{repo}: sync-ahm-official: '{uri}' is not "
                    f"{ {'rsync': 'an rsync', 'git': 'a git'}.get(self.protocol, 'an rsync or git')} URI"
                )
        if self.trust is not None and not os.path.isfile(self.trust):
            errors.append(
                f"{repo}: sync-ahm-coordinator-trust: certificate file '{self.trust}' does not exist"
            )
        return errors

    def warnings(self, raw_options=None):
        """Settings that are ignored: unknown sync-ahm-* keys, rsync options that would change the tree."""
        warnings = []
        known = set(OPTIONS)
        for key in sorted(raw_options or ()):
            if key.startswith("sync-ahm-") and key not in known:
                warnings.append(
                    f"Repository '{self.name}': unknown option '{key}' for sync-type = ahm "
                    f"(known: {', '.join(o for o in OPTIONS if o.startswith('sync-ahm-'))}); ignored"
                )
        if self.rsync_opts_ignored:
            warnings.append(
                f"Repository '{self.name}': sync-rsync-extra-opts: "
                f"{' '.join(self.rsync_opts_ignored)} ignored by sync-type = ahm (it keeps only "
                f"{', '.join(o.rstrip('=') for o in RSYNC_OPTS_KEPT)}: every tree is verified in full)"
            )
        return warnings


def raw_options_of(repo_name):
    """
    Every key of the repository's repos.conf section, as portage parsed it.

    Portage hands a sync module only the options it declares, so an unknown
    sync-ahm-* key (a typo such as sync-ahm-oficial) would vanish silently.
    The config check runs inside portage's repos.conf loader, whose frame still
    holds the section's parsed options (optdict for section sname); read them
    there. None when not called from that loader.
    """
    frame = sys._getframe(1)
    for _ in range(12):
        if frame is None:
            break
        local = frame.f_locals
        if local.get("sname") == repo_name and isinstance(local.get("optdict"), dict):
            return dict(local["optdict"])
        frame = frame.f_back
    return None
