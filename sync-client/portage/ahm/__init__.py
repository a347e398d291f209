# Copyright 2026 Ad Hoc Mirror authors
# Distributed under the terms of the GNU General Public License v2

doc = """Ad Hoc Mirror plug-in module for portage.
Syncs the repository with ahm-sync: from a newer nearby volunteer mirror the
coordinator (sync-uri) offers, verified against the distribution's signature,
falling back to the official mirrors (sync-ahm-official)."""
__doc__ = doc[:]

from portage.localization import _
from portage.sync.config_checks import CheckSyncConfig
from .settings import OPTIONS, AhmSettings, raw_options_of, show_once


class CheckAhmConfig(CheckSyncConfig):
    """repos.conf checks for sync-type = ahm, reported as portage reports its own."""

    def __init__(self, repo, logger):
        CheckSyncConfig.__init__(self, repo, logger)
        # Read now: the loader's frame holding the raw section is only on the stack during __init__.
        self.raw_options = raw_options_of(repo.name)
        # check_uri is replaced: sync-uri must be the coordinator's URL, which the ahm checks cover.
        self.checks = ["check_auto_sync", "check_ahm"]

    def check_ahm(self):
        settings = AhmSettings(self.repo)
        for message in settings.errors():
            show_once(_(message), self.logger.ERROR)
        for message in settings.warnings(self.raw_options):
            show_once(_(message), self.logger.WARNING)


module_spec = {
    "name": "ahm",
    "description": doc,
    "provides": {
        "ahm-module": {
            "name": "ahm",
            "sourcefile": "ahm",
            "class": "AhmSync",
            "description": doc,
            "functions": ["sync", "new", "exists", "retrieve_head"],
            "func_desc": {
                "sync": "Syncs the repository from the swarm with ahm-sync (verified, atomic, official fallback)",
                "new": "Creates the repository at the specified location (the first ahm-sync)",
                "exists": "Returns a boolean of whether the specified dir exists",
                "retrieve_head": "Returns the head commit (git) or metadata/timestamp.commit (rsync)",
            },
            "validate_config": CheckAhmConfig,
            "module_specific_options": OPTIONS,
        }
    },
}
