"""Reads a safetensors file written by nabla (tests/io/write_for_python.cpp) on the Python side.

    check_nabla_written.py FILE
With torch (Debian python3-torch): parses the file with struct + json per the published format,
loads the weights into a torch.nn model and checks torch's output equals nabla's, and checks every
pattern tensor against values recomputed here. With the `safetensors` package (pip): also loads the
file with safetensors.safe_open (the reference reader, which validates the layout) and checks
the same patterns. Needs at least one of the two; exits 77 (CTest "skipped") when it has neither.
"""
import json
import struct
import sys

try:
    import torch
except ImportError:
    torch = None
try:
    import numpy as np
    from safetensors import safe_open
except ImportError:
    safe_open = None

NAMES = {"F32": "float32", "F64": "float64", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
         "I32": "int32", "U8": "uint8", "BOOL": "bool"}
PATTERNS = ["uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64", "bool"]


def read_with_torch(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    out, end = {}, 0
    for name, e in header.items():
        b, e_ = e["data_offsets"]
        end = max(end, e_)
        dtype = getattr(torch, NAMES[e["dtype"]])
        buf = bytearray(body[b:e_])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"])
    assert end == len(body), "data buffer size %d != last offset %d" % (len(body), end)
    return out, meta


def check_torch(path):
    t, meta = read_with_torch(path)
    assert meta == {"framework": "nabla"}, meta
    base = torch.arange(12).reshape(3, 4)
    for p in PATTERNS:
        got = t["pattern." + p]
        want = (base % 3 == 0) if p == "bool" else base.to(getattr(torch, p))
        assert got.dtype == want.dtype and torch.equal(got, want), (p, got, want)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    model.load_state_dict({k: t[k] for k in ["0.weight", "0.bias", "2.weight", "2.bias"]})
    with torch.no_grad():
        y = model(t["x"])
    assert torch.allclose(y, t["y"], rtol=1e-5, atol=1e-6), (y, t["y"])
    print("torch %s: read %d tensors, model output matches nabla's (max diff %.2e)"
          % (torch.__version__, len(t), (y - t["y"]).abs().max().item()))


def check_reference(path):
    # safe_open validates the whole header; numpy cannot hold bfloat16, so that tensor is not fetched.
    with safe_open(path, framework="np") as f:
        assert f.metadata() == {"framework": "nabla"}, f.metadata()
        t = {k: f.get_tensor(k) for k in f.keys() if k != "pattern.bfloat16"}
    base = np.arange(12).reshape(3, 4)
    for p in PATTERNS:
        if p == "bfloat16":
            continue  # numpy has no bfloat16
        got = t["pattern." + p]
        want = (base % 3 == 0) if p == "bool" else base.astype(p)
        assert got.dtype == want.dtype and np.array_equal(got, want), (p, got, want)
    print("safetensors.safe_open: read %d tensors, patterns match" % len(t))


def main():
    path = sys.argv[1]
    if torch is None and safe_open is None:
        print("neither torch nor the safetensors package is importable: skipped")
        return 77
    if torch is not None:
        check_torch(path)
    if safe_open is not None:
        check_reference(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
