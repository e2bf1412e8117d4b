"""PyTorch's side of the training benchmark: the seed MLP and CNN, Adam, cross-entropy and the plain
loop, on shuffled batches gathered from Fashion-MNIST in memory (/255). Mirrors train_harness.h
(same arguments, same RESULT lines) so bench/train_table.py reads all three sides alike.
    /usr/bin/python3 bench/train_torch.py --model mlp --threads 1
    /usr/bin/python3 bench/train_torch.py --infer
"""
import argparse
import gzip
import json
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SimpleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def make_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def read_gz(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read()[header:], dtype=np.uint8)


def blas_info():
    cfg = torch.__config__.show()
    blas = cfg.split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in cfg else "?"
    keys = ("blas", "lapack", "mkl", "dnnl", "xsmm", "gomp", "iomp", "sleef")
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if path.startswith("/") and any(k in path.rsplit("/", 1)[-1] for k in keys):
                libs.add(path)
    return f"torch {torch.__version__} BLAS_INFO={blas}; mapped: " + " ".join(sorted(libs))


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def epoch_batches(n, limit, batch, rng):
    perm = torch.from_numpy(rng.permutation(n).astype(np.int64))
    use = min(limit, n) if limit > 0 else n
    return [perm[b:b + batch] for b in range(0, use - batch + 1, batch)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="mlp", choices=["mlp", "cnn"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--infer", action="store_true")
    p.add_argument("--calls", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.infer:
        model = SimpleNet().eval()
        x = torch.rand(1, 784)
        with torch.no_grad():
            for _ in range(1000):
                model(x)
            us = []
            for _ in range(a.calls):
                t0 = time.perf_counter_ns()
                model(x)
                us.append((time.perf_counter_ns() - t0) / 1e3)
        us_sorted = sorted(us)
        print("RESULT " + json.dumps({
            "impl": "pytorch", "kind": "infer", "model": "mlp", "threads": a.threads, "batch": 1,
            "median": statistics.median(us), "unit": "us", "p10": us_sorted[a.calls // 10],
            "p90": us_sorted[a.calls * 9 // 10], "peak_rss_mib": peak_rss_mib(), "blas": blas_info()}),
            flush=True)
        return

    root = "/usr/share/datasets/fashion-mnist/"
    images = torch.from_numpy(read_gz(root + "train-images-idx3-ubyte.gz", 16).copy())  # writable
    labels = torch.from_numpy(read_gz(root + "train-labels-idx1-ubyte.gz", 8).copy()).long()
    n = labels.numel()
    shape = (n, 1, 28, 28) if a.model == "cnn" else (n, 784)
    images = images.view(shape).float().div_(255.0)  # one float copy, as on the C++ sides
    batch = 64 if a.model == "cnn" else 32

    model = make_cnn() if a.model == "cnn" else SimpleNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    criterion = nn.CrossEntropyLoss()

    def step(idx):
        data, target = images.index_select(0, idx), labels.index_select(0, idx)
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()

    for idx in epoch_batches(n, a.warmup * batch, batch, np.random.default_rng(a.seed + 1000)):
        step(idx)
    rates, cpu_rates = [], []
    for r in range(a.reps):
        batches = epoch_batches(n, a.limit, batch, np.random.default_rng(a.seed + r))
        t0, c0 = time.perf_counter(), time.process_time()
        for idx in batches:
            step(idx)
        rates.append(len(batches) * batch / (time.perf_counter() - t0))
        cpu_rates.append(len(batches) * batch / (time.process_time() - c0))
    print("RESULT " + json.dumps({
        "impl": "pytorch", "kind": "train", "model": a.model, "threads": a.threads, "batch": batch,
        "samples_per_epoch": len(batches) * batch, "median": statistics.median(rates), "unit": "samples/s",
        "reps": rates, "per_cpu_s": cpu_rates, "peak_rss_mib": peak_rss_mib(), "blas": blas_info()}), flush=True)


if __name__ == "__main__":
    main()
