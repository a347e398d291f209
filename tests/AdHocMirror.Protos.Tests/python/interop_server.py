"""A python3-grpcio server that our client calls. Prints its port, then serves until stdin closes.

usage: interop_server.py PROTO_DIR
"""
import base64
import sys
import threading
import time
from concurrent import futures

import grpc

from interop_common import load_pb2

pb2 = load_pb2(sys.argv[1])


def seen_metadata(context):
    out = {}
    for k, v in context.invocation_metadata():
        out[k] = base64.b64encode(v).decode() if k.endswith("-bin") else v
    return out


def wait(context, ms):
    end = time.monotonic() + ms / 1000.0
    while time.monotonic() < end and context.is_active():
        time.sleep(0.01)


def status_of(code):
    return next(c for c in grpc.StatusCode if c.value[0] == code)


def count(request, context):
    for i in range(request.count):
        yield pb2.EchoReply(index=i)
    if request.fail_code:
        context.abort(status_of(request.fail_code), request.fail_message)


def echo(request, context):
    wait(context, request.sleep_ms)
    context.set_trailing_metadata([("x-served-by", "grpcio"), ("x-checksum-bin", b"\x01\x02\x03")])
    if request.fail_code:
        context.abort(status_of(request.fail_code), request.fail_message)
    return pb2.EchoReply(text=request.text, payload=request.payload, metadata=seen_metadata(context),
                         had_deadline=context.time_remaining() is not None and context.time_remaining() < 1e6,
                         payload_size=len(request.payload))


handlers = {
    "Echo": grpc.unary_unary_rpc_method_handler(echo, request_deserializer=pb2.EchoRequest.FromString,
                                                response_serializer=pb2.EchoReply.SerializeToString),
    "Count": grpc.unary_stream_rpc_method_handler(count, request_deserializer=pb2.EchoRequest.FromString,
                                                  response_serializer=pb2.EchoReply.SerializeToString),
}
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("ahm.test.Interop", handlers)])
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
sys.stdin.read()
server.stop(0)
