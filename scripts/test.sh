#!/usr/bin/env bash
# Runs every test of the solution (after setup.sh) and ends with one line: "tests: N passed, N failed, N skipped".
# Conformance tests read AHM_CONFORMANCE_DIR (the shared fixtures folder) and are skipped, saying so, without it.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
./scripts/setup.sh || exit $?
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The suite starts thousands of short-lived processes while supervisors (openrc's stop, the daemon's own) signal
# pids they recorded. With the kernel's old default of 32,768 pids a pid comes round again within a minute, and a
# stale SIGTERM can reach an unrelated test process. systemd raises the limit to 4,194,304 on 64-bit machines.
if [[ -w /proc/sys/kernel/pid_max ]] && (( $(cat /proc/sys/kernel/pid_max) < 4194304 )); then
  echo 4194304 > /proc/sys/kernel/pid_max 2>/dev/null || true
fi

if [[ -z ${AHM_CONFORMANCE_DIR:-} && -d ../shared/fixtures ]]; then
  AHM_CONFORMANCE_DIR=$(cd ../shared/fixtures && pwd)
  export AHM_CONFORMANCE_DIR
fi
echo "AHM_CONFORMANCE_DIR=${AHM_CONFORMANCE_DIR:-<unset: conformance tests will be skipped>}"

dotnet build AdHocMirror.sln --no-restore --verbosity quiet -nologo "$@" || { echo "tests: 0 passed, 1 failed (build failed)"; exit 1; }

log=$(mktemp)
# --blame-hang-timeout turns a hung test into a failure with a dump instead of a stuck run;
# the minimal console logger prints each failure's message and stack, which CI logs must show.
dotnet test AdHocMirror.sln --no-build --verbosity quiet -nologo --blame-hang-timeout 4m \
  --logger "console;verbosity=minimal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

read -r passed failed skipped < <(awk '
  /(Passed|Failed)!/ {
    for (i = 1; i <= NF; i++) {
      gsub(",", "", $(i+1))
      if ($i == "Failed:") f += $(i+1)
      if ($i == "Passed:") p += $(i+1)
      if ($i == "Skipped:") s += $(i+1)
    }
  }
  END { print p+0, f+0, s+0 }' "$log")
rm -f "$log"
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
