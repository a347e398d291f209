#!/usr/bin/env bash
# Installs what AHM needs on a Debian machine (as root) when it is missing, then restores NuGet packages.
# Safe to run again: it installs nothing that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  rsync git gnupg              # the real tree transports and signatures
  python3 python3-grpcio python3-protobuf protobuf-compiler   # interop tests against a real gRPC
  libmaxmind-db-writer-perl mmdb-bin                           # GeoIP fixtures and cross-checks
  nghttp2-client               # h2load for the wire benchmark
  shellcheck openrc            # init script checks
  fonts-dejavu-core            # text in ahm-simulate's plots (SkiaSharp draws with the system's fonts)
  stress-ng                    # the suite beside a busy machine (README "Tests")
  postgresql                   # the shared coordinator store; tests start private clusters (a packaged system cluster is not used)
  iproute2 procps ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 2
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK (dotnet) is required and not on PATH; install it first (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 2
fi
if ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "setup: a .NET 10 SDK is required; found: $(dotnet --list-sdks | tr '\n' ' ')" >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore AdHocMirror.sln --verbosity quiet
