#!/usr/bin/python3
"""Golden files for PyTorchFileTests, written by real PyTorch.

Made with PyTorch 1.13.0a0 (Debian 12's python3-torch) on Python 3.11, little-endian x86-64:
    cd tests/Dls.Models.Tests/TestData/pytorch && /usr/bin/python3 make_golden.py

Every file is what torch.save / torch.jit.save writes; expected.json holds, per readable file, every tensor
(dtype, shape, values in row-major order of the contiguous tensor) and every skipped non-tensor value, flattened
by the rules PyTorchFile documents: dict keys joined with '.', list/tuple/set items by index, numbers and
strings written as Python's repr would (True/False/None, 0.001, 1e-08), strings as they are, empty containers
as {} [] (). Re-running rewrites the same values (seeded); the zip bytes may differ between PyTorch versions.
"""
import collections
import json
import os
import re

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE_NAMES = {
    torch.float64: "float64", torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16",
    torch.int64: "int64", torch.int32: "int32", torch.int16: "int16", torch.int8: "int8",
    torch.uint8: "uint8", torch.bool: "bool",
}


class Tiny(nn.Module):
    """The state-dict shapes of the course models: a linear layer, a bidirectional GRU, a BatchNorm's buffers."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.gru = nn.GRU(3, 2, batch_first=True, bidirectional=True)
        self.bn = nn.BatchNorm1d(3)
        with torch.no_grad():
            self.bn.running_mean.copy_(torch.randn(3))
            self.bn.running_var.copy_(torch.rand(3) + 0.5)
            self.bn.num_batches_tracked.fill_(7)


class Config:
    """A user's own class: torch.save pickles it by reference (GLOBAL __main__ Config), which a reader must refuse."""

    def __init__(self):
        self.hidden = 3


def text(value):
    """A non-tensor value as PyTorchFile records it in Metadata."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    raise TypeError(f"no golden text for {type(value)}")


def flatten(value, path, tensors, metadata):
    if isinstance(value, torch.Tensor):
        t = value.detach().contiguous()
        values = (t.float() if t.dtype in (torch.float16, torch.bfloat16) else t).flatten().tolist()
        tensors[path] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "values": values}
        return
    if isinstance(value, dict):
        items = [(text(k), v) for k, v in value.items()]
        empty = "{}"
    elif isinstance(value, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(value)]
        empty = "[]" if isinstance(value, list) else "()"
    else:
        metadata[path] = text(value)
        return
    if not items and path:
        metadata[path] = empty
    for key, item in items:
        flatten(item, f"{path}.{key}" if path else key, tensors, metadata)


def save(name, obj, expected, **kwargs):
    path = os.path.join(HERE, name)
    torch.save(obj, path, **kwargs)
    if expected is not None:
        tensors, metadata = {}, {}
        flatten(obj, "", tensors, metadata)
        expected[name] = {"tensors": tensors, "metadata": metadata}


def main():
    expected = {}

    torch.manual_seed(1234)
    tiny = Tiny()
    save("state_dict.pth", tiny.state_dict(), expected)
    save("state_dict_protocol4.pth", tiny.state_dict(), expected, pickle_protocol=4)
    save("state_dict_protocol5.pth", tiny.state_dict(), expected, pickle_protocol=5)

    torch.manual_seed(99)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(5, 3)).pow(2).mean().backward()
    optimizer.step()
    save("checkpoint.pth", {
        "epoch": 3,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": 0.25,
        "name": "tiny",
        "history": [0.5, 0.25],
        "best": None,
        "extras": {},
    }, expected)

    # One storage behind every entry: tied weights, a transpose (non-contiguous), slices with a storage offset,
    # a column (stride 3), a view; and a second storage seen through a stepped slice.
    torch.manual_seed(7)
    w = torch.randn(4, 3)
    base = torch.arange(10, dtype=torch.float32)
    save("shared.pth", collections.OrderedDict([
        ("encoder.weight", w), ("decoder.weight", w), ("transposed", w.t()), ("rows", w[1:3]), ("row", w[2]),
        ("column", w[:, 1]), ("flat", w.view(12)), ("odd", base[1::2]), ("scalar", base[4]),
    ]), expected)

    torch.manual_seed(5)
    save("dtypes.pth", {
        "float64": torch.tensor([[0.1, -2.5, 1e300], [3.0, -0.0, 1e-300]], dtype=torch.float64),
        "float32": torch.randn(2, 3),
        "float16": torch.tensor([0.5, -65504.0, 6.1035e-05, 1.0009765625], dtype=torch.float16),
        "bfloat16": torch.tensor([1.0, -3.140625, 3.3895e38, 1e-3], dtype=torch.bfloat16),
        "int64": torch.tensor([-(2 ** 62) - 1, 0, 2 ** 62 + 3], dtype=torch.int64),
        "int32": torch.tensor([-(2 ** 31), 7, 2 ** 31 - 1], dtype=torch.int32),
        "int16": torch.tensor([-32768, 12, 32767], dtype=torch.int16),
        "int8": torch.tensor([[-128, 0], [5, 127]], dtype=torch.int8),
        "uint8": torch.tensor([0, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([[True, False, True]]),
        "empty": torch.zeros(0, 3),
    }, expected)

    torch.manual_seed(11)
    save("containers.pth", [
        torch.randn(2),
        (nn.Parameter(torch.randn(3)), {"x": torch.arange(3, dtype=torch.int32), "tag": "note"}),
        7,
    ], expected)
    save("tensor.pth", torch.tensor([1.5, 2.5]), expected)

    save("legacy.pth", tiny.state_dict(), None, _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(nn.Linear(2, 1)), os.path.join(HERE, "torchscript.pt"))
    save("custom_object.pth", {"weight": torch.ones(2), "config": Config()}, None)
    save("complex.pth", {"ok": torch.ones(1), "spectrum": torch.tensor([1 + 2j, 3 - 1j])}, None)
    save("quantized.pth", {"q": torch.quantize_per_tensor(torch.tensor([1.0, 2.0]), 0.1, 0, torch.qint8)}, None)
    save("no_tensors.pth", {"epoch": 3, "name": "tiny"}, None)
    save("collision.pth", {"a.b": torch.ones(1), "a": {"b": torch.zeros(1)}}, None)

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        body = json.dumps({"pytorch": torch.__version__, "files": expected}, indent=1, sort_keys=True)
        # One line per list of numbers: the file stays short enough to read.
        body = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", body)
        f.write(body + "\n")


if __name__ == "__main__":
    main()
