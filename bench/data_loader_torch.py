"""torch.utils.data.DataLoader on Fashion-MNIST (shuffle + batch 64 + ToTensor + Normalize), in
samples/s, against nabla's DataLoader (bench/data_loader_bench.cpp) on the same files.

    /usr/bin/python3 bench/data_loader_torch.py [--nabla build-bench/bench/data_loader_bench]
        [--root /usr/share/datasets/fashion-mnist] [--epochs 5] [--workers 0,1,2]

The images are read once into memory with gzip + numpy (no torchvision dataset class, no PIL).
Two torch variants:
  per-sample: the idiomatic way, a map-style Dataset applying torchvision ToTensor + Normalize to
              each image, default collation (what torchvision.datasets.FashionMNIST does, minus PIL);
  batched:    the fastest way torch offers, batch_size=None with a BatchSampler, so __getitem__
              gathers 64 images and transforms them as one tensor (what nabla's loader does).
Ratios are nabla / torch, medians of `epochs` epochs each (after one warm-up epoch).
"""
import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


class PerSample(Dataset):
    def __init__(self, images, labels):
        import torchvision.transforms as T
        self.images, self.labels = images, labels
        self.tf = T.Compose([T.ToTensor(), T.Normalize((MEAN,), (STD,))])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.tf(self.images[i]), int(self.labels[i])


class Batched(Dataset):
    def __init__(self, images, labels):
        self.images, self.labels = torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):  # idx: a list of 64 indices from the BatchSampler
        idx = torch.as_tensor(idx)
        x = self.images.index_select(0, idx).unsqueeze(1).float().div(255)
        return (x - MEAN) / STD, self.labels.index_select(0, idx)


def measure(loader, epochs):
    rates = []
    for e in range(epochs + 1):
        t0 = time.perf_counter()
        n = 0
        for x, y in loader:
            n += x.shape[0]
        if e > 0:
            rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", default="0,1,2")
    ap.add_argument("--nabla", help="path of data_loader_bench, to run it and print ratios")
    args = ap.parse_args()
    torch.set_num_threads(1)
    images = read_idx(os.path.join(args.root, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.root, "train-labels-idx1-ubyte.gz"))
    workers = [int(w) for w in args.workers.split(",")]

    torch_rates = {}
    for w in workers:
        g = torch.Generator().manual_seed(0)
        per_sample = DataLoader(PerSample(images, labels), batch_size=64, shuffle=True, num_workers=w, generator=g)
        ds = Batched(images, labels)
        batched = DataLoader(ds, batch_size=None, num_workers=w,
                             sampler=BatchSampler(RandomSampler(ds, generator=g), 64, drop_last=False))
        for name, loader in (("per-sample", per_sample), ("batched", batched)):
            med, rates = measure(loader, args.epochs)
            torch_rates[(name, w)] = med
            print(f"torch {name} workers={w} median_samples_per_s={med:.0f} epochs={[round(r) for r in rates]}",
                  flush=True)

    if args.nabla:
        out = subprocess.run([args.nabla, "--root", args.root, "--epochs", str(args.epochs), "--workers",
                              args.workers], check=True, capture_output=True, text=True).stdout
        print(out, end="")
        nabla_rates = {int(m.group(1)): float(m.group(2))
                       for m in re.finditer(r"nabla workers=(\d+) median_samples_per_s=([\d.]+)", out)}
        print("\n| num_workers | nabla samples/s | torch per-sample | ratio | torch batched | ratio |")
        print("|---|---|---|---|---|---|")
        for w in workers:
            n, p, b = nabla_rates[w], torch_rates[("per-sample", w)], torch_rates[("batched", w)]
            print(f"| {w} | {n:,.0f} | {p:,.0f} | {n / p:.1f}x | {b:,.0f} | {n / b:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
