#!/usr/bin/env bash
# The main job: a local demo of Ad Hoc Mirror on loopback, on embedded defaults.
# Today it starts the coordinator, shows it answering real gRPC (a stock grpcio client's health
# check), and stops it cleanly. Pass --serve to leave the coordinator running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

serve=false
[[ ${1:-} == --serve ]] && serve=true

dotnet build coordinator/AdHocMirror.Coordinator --no-restore --verbosity quiet -nologo
bin=coordinator/AdHocMirror.Coordinator/bin/Debug/net10.0/ahm-coordinator.dll
state=$(mktemp -d /tmp/ahm-demo.XXXXXX)
port=${AHM_DEMO_PORT:-7470}
admin_port=${AHM_DEMO_ADMIN_PORT:-7471}

dotnet "$bin" serve --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin_port" --data-dir "$state" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$state"; }
trap cleanup EXIT

echo "demo: coordinator starting on 127.0.0.1:$port (admin 127.0.0.1:$admin_port), state in $state"
/usr/bin/python3 - "$port" <<'PY'
import sys, time, grpc
target = f"127.0.0.1:{sys.argv[1]}"
check = grpc.insecure_channel(target).unary_unary(
    "/grpc.health.v1.Health/Check", request_serializer=lambda b: b, response_deserializer=lambda b: b)
deadline = time.monotonic() + 60
while True:
    try:
        reply = check(b"", timeout=2)
        break
    except grpc.RpcError as e:
        if time.monotonic() > deadline:
            sys.exit(f"demo: coordinator did not answer: {e.code().name} {e.details()}")
        time.sleep(0.2)
status = {b"\x08\x01": "SERVING"}.get(reply, repr(reply))
print(f"demo: grpcio health check of {target}: {status}")
PY

if $serve; then
  echo "demo: coordinator running; Ctrl-C to stop"
  wait "$pid"
else
  echo "demo: stopping the coordinator"
fi
