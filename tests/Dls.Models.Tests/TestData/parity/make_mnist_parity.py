#!/usr/bin/env python3
"""PyTorch side of the MNIST parity test (StateDictParityTests): an assignment-style MLP written the way a PyTorch
user writes it (nn.Sequential of Linear, ReLU, Dropout), seeded, saved with torch.save as a checkpoint dictionary,
and its eval-mode logits on a fixed batch. The C# test reads the file with PyTorchFile, maps the names onto
Dls's MnistMlp with StateDictImport and compares the logits.

Made with Debian 12's python3-torch 1.13.1+dfsg, which reports itself as 1.13.0a0 (CPU):  /usr/bin/python3 make_mnist_parity.py  (writes beside itself).
Small shapes (12 inputs, two hidden layers of 8, 3 classes) keep the file a few kilobytes; the layer layout is the
assignment's 784 -> 1024 x 5 -> 10 in miniature.
"""
import json
import os

import torch
from torch import nn

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261205)

inputs, hidden, classes = 12, 8, 3
model = nn.Sequential(
    nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(hidden, classes),
)
# A few optimizer steps so the weights are not the initial ones and the file also holds optimizer state.
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x_train = torch.rand(32, inputs)
y_train = torch.randint(0, classes, (32,))
for _ in range(5):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x_train), y_train)
    loss.backward()
    optimizer.step()

model.eval()
batch = torch.rand(4, inputs)
with torch.no_grad():
    logits = model(batch)

torch.save({"epoch": 5, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()},
           os.path.join(here, "mnist_mlp.pth"))
with open(os.path.join(here, "mnist_mlp.json"), "w") as f:
    json.dump({
        "torch_version": torch.__version__,
        "shape": {"input": inputs, "hidden": hidden, "hidden_layers": 2, "classes": classes},
        "input": batch.tolist(),
        "logits": logits.tolist(),
    }, f, indent=1)
print("wrote mnist_mlp.pth and mnist_mlp.json with torch", torch.__version__)
