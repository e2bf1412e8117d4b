"""TorchScript twins of the bundles written by `deploy_bench export DIR` (for bench/deploy_bench).

Reads each bundle's weights.safetensors (parsed here with the published layout: 8-byte header
length, JSON header, raw little-endian data; no `safetensors` package needed), loads them into the
same model written in PyTorch, checks the output against the bundle's reference (x.npy -> y.npy),
and saves torch.jit.trace of it as DIR/<model>.pt.
    /usr/bin/python3 bench/deploy_torchscript.py DIR
"""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[base + b:base + end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


class SimpleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 64), nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def seed_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def main(out):
    torch.set_num_threads(1)
    for name, model, shape in (("mlp", SimpleNet(), (1, 784)), ("cnn", seed_cnn(), (1, 1, 28, 28))):
        weights = read_safetensors(f"{out}/{name}/weights.safetensors")
        model.load_state_dict(weights, strict=True)  # every weight matched by name and shape
        model.eval()
        x = torch.from_numpy(np.load(f"{out}/{name}.x.npy"))
        want = torch.from_numpy(np.load(f"{out}/{name}.y.npy"))
        with torch.no_grad():
            got = model(x)
            diff = (got - want).abs().max().item()
            assert diff < 1e-4, f"{name}: PyTorch twin differs from the bundle by {diff}"
            traced = torch.jit.trace(model, torch.zeros(shape))
        traced.save(f"{out}/{name}.pt")
        print(f"{name}: {out}/{name}.pt (max |diff| vs nabla {diff:.2e})")


if __name__ == "__main__":
    main(sys.argv[1])
