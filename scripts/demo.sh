#!/usr/bin/env bash
# The main job: a local demo swarm of Ad Hoc Mirror on loopback, on embedded defaults.
# It builds everything, generates a signed Gentoo-shaped tree, starts an "official" rsync upstream,
# a coordinator that places 127.0.0.x addresses in cities, three ahm-daemon volunteers with
# different limits, and runs ahm-sync as a user in Munich: first sync, an incremental sync after
# the upstream advances, and a sync that avoids a mirror staff have just blacklisted.
# Everything stops at the end. Pass --keep to keep the working directory and logs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build tests/AdHocMirror.Swarm --no-restore --verbosity quiet -nologo
exec dotnet tests/AdHocMirror.Swarm/bin/Debug/net10.0/ahm-swarm.dll "$@"
