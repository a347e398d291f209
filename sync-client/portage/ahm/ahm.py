# Copyright 2026 Ad Hoc Mirror authors
# Distributed under the terms of the GNU General Public License v2

"""sync-type = ahm: portage's sync runs ahm-sync, which finds a newer nearby
volunteer mirror, syncs into staging, verifies the tree against the
distribution's signature, swaps it in atomically and falls back to the official
mirrors. Nothing of that is done here: this module turns repos.conf into
ahm-sync's command line and its --json result into portage's return value and
messages. Portage runs repo.postsync.d itself after a module returns, so
ahm-sync is told not to (--no-postsync-hooks)."""

import json
import logging
import os
import subprocess
import tempfile

import portage
from portage.output import EOutput
from portage.sync.syncbase import NewBase
from portage.util import writemsg_level

from .settings import AhmSettings, show_once

_ATOM = "app-portage/adhocmirror"

# ahm-sync's per-source outcomes (its README), as a person reads them.
_OUTCOMES = {
    "unreachable": "unreachable",
    "timeout": "timed out",
    "refused": "refused the connection",
    "verification_failed": "sent a tree that failed verification",
    "rollback": "sent an older tree than promised",
    "stale": "had no newer tree",
    "abandoned": "abandoned",
}


class AhmSync(NewBase):
    """Sync through the Ad Hoc Mirror swarm with ahm-sync"""

    short_desc = "Sync repositories from verified volunteer mirrors (ahm-sync)"

    @staticmethod
    def name():
        return "AhmSync"

    def __init__(self):
        NewBase.__init__(self, "ahm-sync", _ATOM)

    def new(self, **kwargs):
        """The first sync into an empty location: ahm-sync does it like any other."""
        if kwargs:
            self._kwargs(kwargs)
        return self._ahm_sync()

    def update(self):
        return self._ahm_sync()

    def retrieve_head(self, **kwargs):
        """The head commit of a git tree, else metadata/timestamp.commit (as the rsync module)."""
        if kwargs:
            self._kwargs(kwargs)
        location = self.repo.location
        if os.path.isdir(os.path.join(location, ".git")):
            git = portage.process.find_binary("git")
            if git is None:
                return (1, False)
            try:
                head = subprocess.check_output(
                    [git, "-c", f"safe.directory={location}", "rev-list", "--max-count=1", "HEAD"],
                    cwd=location,
                    encoding="utf-8",
                    errors="replace",
                    stderr=subprocess.DEVNULL,
                )
            except (subprocess.CalledProcessError, OSError):
                return (1, False)
            return (os.EX_OK, head)
        last_sync = portage.grabfile(os.path.join(location, "metadata", "timestamp.commit"))
        if last_sync and last_sync[0].split():
            return (os.EX_OK, last_sync[0].split()[0])
        return (1, False)

    def _ahm_sync(self):
        opts = self.options.get("emerge_config").opts
        quiet = "--quiet" in opts or self.settings.get("PORTAGE_QUIET") == "1"
        settings = AhmSettings(self.repo)
        errors = settings.errors()
        if settings.keyring is not None and not os.path.isfile(settings.keyring):
            errors.append(
                f"Repository '{self.repo.name}': sync-openpgp-key-path: '{settings.keyring}' does not exist"
            )
        if errors:
            for message in errors:
                show_once(message, logging.ERROR)
            self._fail(f"Repository '{self.repo.name}' not synced: fix the repos.conf settings named above")
            return (2, False)
        for message in settings.warnings():
            show_once(message, logging.WARNING)

        if not quiet:
            writemsg_level(f">>> Starting ahm-sync with coordinator {settings.coordinator}...\n")
        code, result = self._run(self._command(settings, quiet))
        if result is None:
            self._fail(f"ahm-sync exited with code {code} without a result; see its messages above")
            return (code or 1, False)

        status = result.get("status")
        if code != os.EX_OK or status not in ("synced", "up_to_date"):
            self._fail("ahm-sync: " + result.get("message", status or "failed"))
            return (code or 1, False)

        self._report(settings, result, EOutput(quiet=quiet), quiet)
        return (os.EX_OK, status == "synced")

    def _command(self, settings, quiet):
        command = [
            self.bin_command,
            "--repo", self.repo.location,
            "--coordinator", settings.coordinator,
            # Everything comes from repos.conf through flags; ahm-sync reads no repos.conf of its own here.
            "--repos-conf", os.devnull,
            "--no-postsync-hooks",
            "--json",
        ]
        if settings.protocol:
            command += ["--protocol", settings.protocol]
        for uri in settings.official:
            command += ["--official", uri]
        if settings.trust:
            command += ["--coordinator-trust", settings.trust]
        if settings.keyring:
            command += ["--keyring", settings.keyring]
        for option in settings.rsync_opts:
            command.append(f"--rsync-opt={option}")
        if quiet:
            command.append("--quiet")
        return command

    def _run(self, command):
        """ahm-sync as portage spawns its sync commands (sync-user, usersync, umask, environment); stdout is the result."""
        spawn_kwargs = dict(self.spawn_kwargs)
        fd_pipes = dict(spawn_kwargs.pop("fd_pipes", None) or {0: 0, 1: 1, 2: 2})
        with tempfile.TemporaryFile() as out:
            # Steps and progress go where portage sends a sync command's output; only the result object is captured.
            fd_pipes[2] = fd_pipes.get(2, fd_pipes.get(1, 2))
            fd_pipes[1] = out.fileno()
            code = portage.process.spawn(command, fd_pipes=fd_pipes, **spawn_kwargs)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        for line in reversed(text.splitlines()):
            if line.startswith("{"):
                try:
                    return code, json.loads(line)
                except ValueError:
                    break
        return code, None

    def _report(self, settings, result, out, quiet):
        if not result.get("coordinator_reachable"):
            detail = result.get("coordinator_error")
            out.ewarn(
                f"Coordinator {settings.coordinator} unreachable"
                f"{' (' + detail + ')' if detail else ''}: synced from the official mirrors directly"
            )
        used = None
        for attempt in result.get("attempts", []):
            if attempt.get("outcome") == "success" and attempt.get("uri") == result.get("source"):
                used = attempt
                continue
            what = _OUTCOMES.get(attempt.get("outcome"), attempt.get("outcome"))
            reported = "; reported to the coordinator" if attempt.get("reported") else ""
            out.ewarn(f"{_describe(attempt)} {what}{reported}")
            if attempt.get("detail") and not quiet:
                out.ewarn(f"  {attempt['detail']}")
        source = _describe(used or {"uri": result.get("source"), "official": result.get("source_official")})
        verb = "Synced" if result.get("status") == "synced" else "Already up to date, confirmed by"
        message = f"{verb} {source}"
        self.logger(self.xterm_titles, f">>> {message}")
        if not quiet:
            writemsg_level(f">>> {message}\n")
            received = result.get("bytes_received", 0)
            writemsg_level(
                f">>> Verified version {result.get('version')} "
                f"({_size(received)} received, {result.get('seconds', 0):.1f} s)\n"
            )

    def _fail(self, message):
        self.logger(self.xterm_titles, f"!!! {message}")
        writemsg_level(f"!!! {message}\n", level=logging.ERROR, noiselevel=-1)


def _describe(attempt):
    kind = "official mirror" if attempt.get("official") else "volunteer mirror"
    place = attempt.get("place")
    return f"{kind} {attempt.get('uri')}{' (' + place + ')' if place else ''}"


def _size(count):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
