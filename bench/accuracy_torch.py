#!/usr/bin/python3
"""The seed's PyTorch recipe on Fashion-MNIST, as the accuracy reference for examples/.

  /usr/bin/python3 bench/accuracy_torch.py {mlp,cnn} SEED [EPOCHS]

mlp: 784-64-64-10 ReLU, Adam lr 1e-3, batch 32, 10 epochs; cnn: the seed CNN, Adam 1e-3, batch 64,
3 epochs. Pixels / 255, shuffle every epoch, last partial batch kept (drop_last=False), one thread.
Prints per-epoch loss and the final "test accuracy" like the C++ examples. The test set is read
only after training.
"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = "/usr/share/datasets/fashion-mnist"


def idx(path, offset):
    with gzip.open(f"{ROOT}/{path}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(train):
    pre = "train" if train else "t10k"
    x = torch.from_numpy(idx(f"{pre}-images-idx3-ubyte.gz", 16).copy()).float().view(-1, 1, 28, 28) / 255.0
    y = torch.from_numpy(idx(f"{pre}-labels-idx1-ubyte.gz", 8).copy()).long()
    return x, y


class SimpleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    kind, seed = sys.argv[1], int(sys.argv[2])
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else (10 if kind == "mlp" else 3)
    batch = 32 if kind == "mlp" else 64
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x, y = load(True)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch,
                                         shuffle=True, drop_last=False)
    model = SimpleNet() if kind == "mlp" else cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        t0, loss_sum, seen = time.time(), 0.0, 0
        for data, target in loader:
            optimizer.zero_grad()
            loss = criterion(model(data), target)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * data.size(0)
            seen += data.size(0)
        print(f"epoch {epoch + 1}/{epochs}  loss {loss_sum / seen:.4f}  time {time.time() - t0:.2f}s", flush=True)
    model.eval()
    xt, yt = load(False)
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).double().mean().item()
    print(f"test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
