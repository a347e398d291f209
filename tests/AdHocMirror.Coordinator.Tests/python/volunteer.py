"""A third-party volunteer written only from the ahm.v1 .proto comments, on Debian's python3-grpcio.

Registers, logs in, answers the coordinator's pings, and asks FindMirror until it is offered.
argv: PROTO_ROOT COORDINATOR(host:port) GENERATED_UNIX_SECONDS
Prints "offered URI" and exits 0, or exits 1 with the reason.
"""
import glob
import hashlib
import hmac
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc


def load(proto_root):
    out = tempfile.mkdtemp(prefix="ahm-volunteer-pb2-")
    protos = sorted(glob.glob(os.path.join(proto_root, "ahm", "v1", "*.proto")))
    subprocess.run(["protoc", f"--python_out={out}", f"-I{proto_root}", *protos], check=True)
    sys.path.insert(0, out)
    try:
        return {name: importlib.import_module(f"ahm.v1.{name}_pb2") for name in ("common", "registry", "sessions", "matching", "ping")}
    finally:
        # Loaded: the generated files are no longer needed (and this process may be killed rather than exit).
        shutil.rmtree(out, ignore_errors=True)


def call(channel, method, request, reply_type, metadata=None):
    stub = channel.unary_unary(method, request_serializer=type(request).SerializeToString, response_deserializer=reply_type.FromString)
    return stub(request, metadata=metadata, timeout=10)


def main():
    proto_root, coordinator, generated = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pb = load(proto_root)
    common, registry, sessions, matching, ping = pb["common"], pb["registry"], pb["sessions"], pb["matching"], pb["ping"]
    state = {"session_id": None, "secret": None, "pings": 0}
    logged_in = threading.Event()

    def answer(request, context):
        # ping.proto: the first ping may overtake the LoginReply; wait for it before judging the session.
        logged_in.wait(timeout=5)
        # ping.proto: key = the 32 bytes the hex session_secret spells; message = nonce || UTF-8(session_id).
        if request.session_id != state["session_id"]:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not this mirror's session")
        proof = hmac.new(bytes.fromhex(state["secret"]), request.nonce + request.session_id.encode("utf-8"), hashlib.sha256).digest()
        state["pings"] += 1
        reply = ping.PingReply(proof=proof, active_connections=0)
        version = reply.versions.add()
        version.protocol = common.PROTOCOL_RSYNC
        version.generated.seconds = generated
        return reply

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.method_handlers_generic_handler("ahm.v1.MirrorPing", {
        "Ping": grpc.unary_unary_rpc_method_handler(answer, request_deserializer=ping.PingRequest.FromString, response_serializer=ping.PingReply.SerializeToString),
    })
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(coordinator) as channel:
            key = call(channel, "/ahm.v1.Registry/Register", registry.RegisterRequest(software="python-volunteer/1"), registry.RegisterReply)
            # registry.proto: "Bearer <key_id>.<secret>", the hex text as received.
            bearer = [("authorization", f"Bearer {key.key_id}.{key.secret}")]
            rsync_uri = "rsync://127.0.0.1:8873/gentoo-portage"
            login = sessions.LoginRequest(software="python-volunteer/1")
            login.endpoints.rsync_uri = rsync_uri
            login.endpoints.ping_address = f"127.0.0.1:{port}"
            login.limits.max_clients = 5
            version = login.versions.add()
            version.protocol = common.PROTOCOL_RSYNC
            version.generated.seconds = generated
            reply = call(channel, "/ahm.v1.Sessions/Login", login, sessions.LoginReply, bearer)
            state["secret"], state["session_id"] = reply.session_secret, reply.session_id
            logged_in.set()

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                found = call(channel, "/ahm.v1.Matching/FindMirror", matching.FindMirrorRequest(protocol=common.PROTOCOL_RSYNC), matching.FindMirrorReply)
                offered = [c.uri for c in found.candidates if c.uri == rsync_uri]
                if offered:
                    print(f"offered {offered[0]} after {state['pings']} ping(s)", flush=True)
                    return 0
                time.sleep(0.2)
            print(f"never offered; answered {state['pings']} ping(s)", flush=True)
            return 1
    finally:
        server.stop(None)


if __name__ == "__main__":
    sys.exit(main())
