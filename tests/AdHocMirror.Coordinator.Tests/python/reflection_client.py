"""A grpcio client that speaks grpc.reflection.v1 (or v1alpha) to a server and prints what it learned as JSON.

Usage: reflection_client.py PROTO_DIR HOST:PORT VERSION SYMBOL
Lists the services, then asks for the file that defines SYMBOL (a service) and resolves each of its methods'
input and output types from the returned FileDescriptorProtos, as grpcurl does.
"""
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import grpc
from google.protobuf import descriptor_pb2


def load(proto_dir):
    out = tempfile.mkdtemp(prefix="ahm-reflection-pb2-")
    subprocess.run(["protoc", f"--python_out={out}", f"-I{proto_dir}", "grpc/reflection/v1/reflection.proto"], check=True, cwd=proto_dir)
    # Loaded from its file: a package named grpc.reflection would collide with grpcio's own grpc package.
    spec = importlib.util.spec_from_file_location("reflection_pb2", os.path.join(out, "grpc", "reflection", "v1", "reflection_pb2.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shutil.rmtree(out, ignore_errors=True)  # loaded: the generated files are no longer needed
    return module


def main():
    proto_dir, target, version, symbol = sys.argv[1:5]
    pb2 = load(proto_dir)
    method = f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo"
    with grpc.insecure_channel(target) as channel:
        call = channel.stream_stream(method, request_serializer=pb2.ServerReflectionRequest.SerializeToString,
                                     response_deserializer=pb2.ServerReflectionResponse.FromString)
        requests = [pb2.ServerReflectionRequest(list_services=""), pb2.ServerReflectionRequest(file_containing_symbol=symbol)]
        responses = list(call(iter(requests), timeout=20))
    services = [s.name for s in responses[0].list_services_response.service]
    files = {}
    for raw in responses[1].file_descriptor_response.file_descriptor_proto:
        fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
        files[fd.name] = fd
    methods = {}
    for fd in files.values():
        for service in fd.service:
            if f"{fd.package}.{service.name}" == symbol:
                for m in service.method:
                    methods[m.name] = {"input": m.input_type, "output": m.output_type, "server_streaming": m.server_streaming}
    messages = sorted(f".{fd.package}.{m.name}" for fd in files.values() for m in fd.message_type)
    error = responses[1].error_response.error_message if responses[1].HasField("error_response") else None
    print(json.dumps({"services": services, "files": sorted(files), "methods": methods, "messages": messages, "error": error}))


if __name__ == "__main__":
    main()
