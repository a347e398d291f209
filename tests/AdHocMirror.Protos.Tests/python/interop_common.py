"""Shared by the python3-grpcio interop peers: compile the test proto with Debian's protoc."""
import importlib
import os
import shutil
import subprocess
import sys
import tempfile


def load_pb2(proto_dir):
    out = tempfile.mkdtemp(prefix="ahm-pb2-")
    subprocess.run(["protoc", f"--python_out={out}", f"-I{proto_dir}", os.path.join(proto_dir, "interop.proto")], check=True)
    sys.path.insert(0, out)
    try:
        return importlib.import_module("interop_pb2")
    finally:
        # Loaded: the generated files are no longer needed (and this process may be killed rather than exit).
        shutil.rmtree(out, ignore_errors=True)
