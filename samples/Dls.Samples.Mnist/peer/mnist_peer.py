"""PyTorch peer of the Dls MNIST recipe (Q1-Q3), for cross-checking accuracies. Not used at run time.

Same data (the embedded 8,000/2,000 IDX split), same network (784-1024x5-10, ReLU, dropout 0.2 after each hidden
layer, PyTorch's default Linear init), same recipe (Adam, batch 128, 5 epochs at 1e-3), then the rank-D SVD
factorization of every hidden layer (output layer kept dense) and 2 epochs of fine-tuning.
Usage: python3 mnist_peer.py DATA_DIR SEED [SEED ...]; prints one JSON line per seed.
"""
import gzip, json, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Mlp(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.dropout(F.relu(layer(x)), 0.2, self.training)
        return self.layers[-1](x)


class LowRank(nn.Module):
    def __init__(self, u, v, b):
        super().__init__()
        self.u, self.v, self.b = nn.Parameter(u), nn.Parameter(v), nn.Parameter(b)

    def forward(self, x):
        return torch.addmm(self.b, x @ self.v.t(), self.u.t())


def train(model, x, y, epochs, lr, gen):
    opt = torch.optim.Adam(model.parameters(), lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 128):
            batch = order[i:i + 128]
            opt.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            opt.step()


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def factorize(dense, rank, split):
    layers = []
    for i, l in enumerate(dense.layers):
        if i == len(dense.layers) - 1:
            out = nn.Linear(l.in_features, l.out_features)
            out.load_state_dict(l.state_dict())
            layers.append(out)
            continue
        U, S, Vh = torch.linalg.svd(l.weight.detach().double(), full_matrices=False)
        U, S, Vh = U[:, :rank], S[:rank], Vh[:rank]
        if split == "sqrt":
            u, v = U * S.sqrt(), S.sqrt()[:, None] * Vh
        else:  # S on the left factor
            u, v = U * S, Vh
        layers.append(LowRank(u.float(), v.float(), l.bias.detach().clone()))
    return Mlp(layers)


def main():
    root, seeds = sys.argv[1], [int(s) for s in sys.argv[2:]]
    torch.set_num_threads(int(__import__("os").environ.get("PEER_THREADS", "1")))
    xtr = torch.tensor(idx(f"{root}/train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ytr = torch.tensor(idx(f"{root}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    xte = torch.tensor(idx(f"{root}/t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    yte = torch.tensor(idx(f"{root}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    for seed in seeds:
        t0 = time.time()
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        dense = Mlp([nn.Linear(784, 1024)] + [nn.Linear(1024, 1024) for _ in range(4)] + [nn.Linear(1024, 10)])
        train(dense, xtr, ytr, 5, 1e-3, gen)
        result = {"seed": seed, "torch": torch.__version__, "baseline_test_acc": accuracy(dense, xte, yte)}
        for split in ("sqrt", "left"):
            model = factorize(dense, 20, split)
            result[f"svd20_{split}_test_acc"] = accuracy(model, xte, yte)
            state = [p.detach().clone() for p in model.parameters()]
            for lr in (1e-3, 3e-4):
                with torch.no_grad():
                    for p, s in zip(model.parameters(), state):
                        p.copy_(s)
                g = torch.Generator().manual_seed(seed + 1)
                torch.manual_seed(seed + 1)
                train(model, xtr, ytr, 2, lr, g)
                result[f"finetune_{split}_lr{lr:g}_test_acc"] = accuracy(model, xte, yte)
        result["seconds"] = round(time.time() - t0, 1)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
