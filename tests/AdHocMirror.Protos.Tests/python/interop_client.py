"""A python3-grpcio client that calls our server and prints one JSON object of outcomes.

usage: interop_client.py PROTO_DIR HOST:PORT
"""
import base64
import json
import sys

import grpc

from interop_common import load_pb2

pb2 = load_pb2(sys.argv[1])
target = sys.argv[2]
channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 16 * 1024 * 1024)])


def unary(method):
    return channel.unary_unary(f"/ahm.test.Interop/{method}",
                               request_serializer=pb2.EchoRequest.SerializeToString,
                               response_deserializer=pb2.EchoReply.FromString)


def stream(method):
    return channel.unary_stream(f"/ahm.test.Interop/{method}",
                                request_serializer=pb2.EchoRequest.SerializeToString,
                                response_deserializer=pb2.EchoReply.FromString)


def error_of(e):
    return {"code": e.code().name, "details": e.details(),
            "trailers": {k: (v if isinstance(v, str) else base64.b64encode(v).decode()) for k, v in (e.trailing_metadata() or [])}}


results = {}

reply, call = unary("Echo").with_call(
    pb2.EchoRequest(text="héllo", payload=b"\x00\x01\x02"),
    metadata=[("authorization", "Bearer abc.def"), ("x-trace-bin", b"\x00\xff\x10")],
    timeout=10)
results["ok"] = {"text": reply.text, "payload": base64.b64encode(reply.payload).decode(), "metadata": dict(reply.metadata),
                 "had_deadline": reply.had_deadline,
                 "trailers": {k: v for k, v in call.trailing_metadata() if not k.endswith("-bin")}}

try:
    unary("Echo")(pb2.EchoRequest(fail_code=7, fail_message="key revoked: 100% sure ✓"), timeout=10)
    results["error"] = {"code": "OK"}
except grpc.RpcError as e:
    results["error"] = error_of(e)

try:
    unary("Echo")(pb2.EchoRequest(sleep_ms=10000), timeout=0.3)
    results["deadline"] = {"code": "OK"}
except grpc.RpcError as e:
    results["deadline"] = error_of(e)

results["stream"] = [r.index for r in stream("Count")(pb2.EchoRequest(count=5), timeout=10)]

got = []
try:
    for r in stream("Count")(pb2.EchoRequest(count=3, fail_code=14, fail_message="going away"), timeout=10):
        got.append(r.index)
    results["stream_error"] = {"code": "OK", "got": got}
except grpc.RpcError as e:
    results["stream_error"] = dict(error_of(e), got=got)

try:
    channel.unary_unary("/ahm.test.Interop/Nope", request_serializer=pb2.EchoRequest.SerializeToString,
                        response_deserializer=pb2.EchoReply.FromString)(pb2.EchoRequest(), timeout=10)
    results["unimplemented"] = {"code": "OK"}
except grpc.RpcError as e:
    results["unimplemented"] = error_of(e)

try:
    unary("Echo")(pb2.EchoRequest(payload=b"x" * (5 * 1024 * 1024)), timeout=10)
    results["too_large"] = {"code": "OK"}
except grpc.RpcError as e:
    results["too_large"] = error_of(e)

reply = unary("Echo")(pb2.EchoRequest(text="squeeze", payload=b"a" * 100000), timeout=10, compression=grpc.Compression.Gzip)
results["gzip"] = {"text": reply.text, "payload_size": reply.payload_size}

print(json.dumps(results))
