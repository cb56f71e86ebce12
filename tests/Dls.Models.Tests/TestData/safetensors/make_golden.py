#!/usr/bin/env python3
"""Writes the safetensors golden files for SafeTensorsTests, outside .NET, by the format's specification.

The files are built with struct and json only (no safetensors package): 8-byte little-endian unsigned header size N,
N bytes of UTF-8 JSON, then the byte buffer, little-endian, C order. torch (1.13, Debian's python3-torch) only turns
numbers into float16/bfloat16 bits and back.

  golden.safetensors     laid out as the reference serializer (huggingface/safetensors, safetensors/src/tensor.rs,
                         fn prepare) lays it out: tensors sorted by dtype alignment, largest first (the order of its
                         Dtype enum), then by name (byte order of the UTF-8 names); "__metadata__" first, then the
                         tensors in buffer order; compact JSON; header padded with spaces to a multiple of 8 bytes.
                         Metadata keys sorted by name (the reference keeps them in a hash map: any order).
  unordered.safetensors  the same format in an order no writer uses: JSON keys in reverse name order, the buffer in
                         name order, "__metadata__" last, spaces in the JSON and 13 bytes of trailing padding.
  expected.json          per file: metadata, and per tensor dtype, shape, the buffer bytes as hex and the values
                         (integers exactly; floats as the values the stored bits decode to).

Run from any folder: python3 make_golden.py
"""
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

# Element size and the position in the reference's Dtype enum ("They MUST be in increasing alignment order").
DTYPES = {
    "BOOL": (1, 0), "U8": (1, 4), "I8": (1, 5), "I16": (2, 9), "F16": (2, 11), "BF16": (2, 12),
    "I32": (4, 13), "F32": (4, 15), "F64": (8, 17), "I64": (8, 18),
}


def encode(dtype, values):
    """The little-endian bytes of values, and the values as stored (floats decoded back from their bits)."""
    if dtype in ("F16", "BF16"):
        t = torch.tensor(values, dtype=torch.float32).to(torch.float16 if dtype == "F16" else torch.bfloat16)
        bits = t.view(torch.int16).tolist()
        return struct.pack(f"<{len(bits)}h", *bits), t.to(torch.float32).tolist()
    fmt = {"BOOL": "?", "U8": "B", "I8": "b", "I16": "h", "I32": "i", "I64": "q", "F32": "f", "F64": "d"}[dtype]
    data = struct.pack(f"<{len(values)}{fmt}", *values)
    return data, list(struct.unpack(f"<{len(values)}{fmt}", data))


def tensor(dtype, shape, values):
    count = 1
    for d in shape:
        count *= d
    assert count == len(values), (shape, values)
    data, stored = encode(dtype, values)
    assert len(data) == count * DTYPES[dtype][0]
    return {"dtype": dtype, "shape": shape, "data": data, "values": stored}


def header_bytes(obj, separators):
    return json.dumps(obj, ensure_ascii=False, separators=separators).encode("utf-8")


def write(name, header_items, buffer_order, metadata, metadata_first, separators, padding):
    """header_items: (name, tensor) in JSON order; buffer_order: names in buffer order."""
    tensors = dict(header_items)
    offsets, offset = {}, 0
    for n in buffer_order:
        offsets[n] = (offset, offset + len(tensors[n]["data"]))
        offset += len(tensors[n]["data"])
    header = {}
    if metadata is not None and metadata_first:
        header["__metadata__"] = metadata
    for n, t in header_items:
        header[n] = {"dtype": t["dtype"], "shape": t["shape"], "data_offsets": list(offsets[n])}
    if metadata is not None and not metadata_first:
        header["__metadata__"] = metadata
    text = header_bytes(header, separators)
    text += b" " * padding(len(text))
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for n in buffer_order:
            f.write(tensors[n]["data"])
    return {
        "metadata": metadata or {},
        "header_padding": len(text) - len(header_bytes(header, separators)),
        "tensors": {
            n: {"dtype": t["dtype"], "shape": t["shape"], "hex": t["data"].hex(), "values": t["values"]}
            for n, t in sorted(tensors.items())
        },
    }


def utf8(name):
    return name.encode("utf-8")


golden = {
    "f64": tensor("F64", [4], [3.141592653589793, -0.0, 1e300, 5e-324]),
    "f32.matrix": tensor("F32", [2, 3], [1.5, -2.25, 0.1, 3.4028234663852886e38, 1.401298464324817e-45, -7.0]),
    "f32.scalar": tensor("F32", [], [42.5]),
    "f32.empty": tensor("F32", [0, 3], []),
    "décodeur.poids": tensor("F32", [1], [0.25]),
    "f16": tensor("F16", [5], [1.0, -0.5, 65504.0, 5.960464477539063e-08, 0.1]),
    "bf16": tensor("BF16", [2, 2], [1.0, -3.140625, 1e38, 0.1]),
    "i64": tensor("I64", [3], [-9223372036854775808, 9223372036854775807, 1]),
    "i32": tensor("I32", [2, 2], [-2147483648, 2147483647, 0, -1]),
    "i16": tensor("I16", [3], [-32768, 32767, 7]),
    "i8": tensor("I8", [4], [-128, 127, 0, -1]),
    "u8": tensor("U8", [3], [0, 255, 128]),
    "bool": tensor("BOOL", [2, 2], [True, False, False, True]),
    "u8.empty": tensor("U8", [0], []),
}
golden_metadata = {"format": "pt", "note": "golden ✓\nsecond line \"quoted\""}
reference_order = sorted(golden, key=lambda n: (-DTYPES[golden[n]["dtype"]][1], utf8(n)))
expected = {
    "golden.safetensors": write(
        "golden.safetensors",
        [(n, golden[n]) for n in reference_order],
        reference_order,
        dict(sorted(golden_metadata.items(), key=lambda kv: utf8(kv[0]))),
        metadata_first=True,
        separators=(",", ":"),
        padding=lambda n: -n % 8,
    )
}
assert expected["golden.safetensors"]["header_padding"] > 0, "pick names so that the header needs padding"

unordered = {
    "b": tensor("I32", [2], [7, -8]),
    "a": tensor("F32", [2], [0.5, -1.0]),
    "c": tensor("U8", [3], [1, 2, 3]),
    "z.empty": tensor("I64", [0, 2], []),
    "d": tensor("BF16", [], [2.0]),
}
expected["unordered.safetensors"] = write(
    "unordered.safetensors",
    [(n, unordered[n]) for n in sorted(unordered, reverse=True)],
    ["a", "b", "z.empty", "c", "d"],
    {"source": "unordered"},
    metadata_first=False,
    separators=(", ", ": "),
    padding=lambda n: 13,
)

with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
    json.dump(expected, f, ensure_ascii=False, indent=1, sort_keys=True)
    f.write("\n")
