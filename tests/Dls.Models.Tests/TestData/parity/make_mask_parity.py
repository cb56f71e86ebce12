#!/usr/bin/env python3
"""PyTorch side of the mask-network parity test (MaskParityTests): a denoising mask network written the way the
assignment's PyTorch users often write it -- raw STFT magnitude in, ReLU mask out, an nn.Sequential of three Linear
layers -- saved with torch.save(model.state_dict()), with PyTorch's mask and denoised waveform for a fixed signal.
The C# test imports the file into FcMaskNetwork with Input = Magnitude and Activation = Relu and compares both.

Made with Debian 12's python3-torch 1.13.1+dfsg (reports 1.13.0a0, CPU):  /usr/bin/python3 make_mask_parity.py  (writes beside itself).
Hidden width 16 keeps the file small (about 70 kB); the assignment's network is the same at 513 -> H -> H -> 513.
STFT as the library's: n_fft 1024, hop 512, periodic Hann, centred frames with reflect padding (torch.stft's defaults).
"""
import json
import math
import os

import torch
from torch import nn

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261205)

bins, hidden, rate, samples = 513, 16, 16000, 6000
model = nn.Sequential(
    nn.Linear(bins, hidden), nn.ReLU(),
    nn.Linear(hidden, hidden), nn.ReLU(),
    nn.Linear(hidden, bins), nn.ReLU(),
)
model.eval()

t = torch.arange(samples, dtype=torch.float32) / rate
waveform = 0.3 * torch.sin(2 * math.pi * 440 * t) + 0.05 * torch.randn(samples)
window = torch.hann_window(1024)  # periodic by default
spectrum = torch.stft(waveform, 1024, 512, window=window, center=True, pad_mode="reflect", return_complex=True)
magnitude = spectrum.abs().transpose(0, 1)  # (frames, bins)
with torch.no_grad():
    mask = model(magnitude)  # (frames, bins), >= 0
    denoised = torch.istft(spectrum * mask.transpose(0, 1), 1024, 512, window=window, center=True, length=samples)

def f32(values):
    """float32 values as the shortest decimal that reads back to the same float32 (9 significant digits)."""
    return [float("%.9g" % v) for v in values]


def f32(values):
    """float32 values as the shortest decimal that reads back to the same float32 (9 significant digits)."""
    return [float("%.9g" % v) for v in values]


torch.save(model.state_dict(), os.path.join(here, "mask_fc_relu.pth"))
with open(os.path.join(here, "mask_fc_relu.json"), "w") as f:
    json.dump({
        "torch_version": torch.__version__,
        "shape": {"bins": bins, "hidden": hidden},
        "sample_rate": rate,
        "waveform": f32(waveform.tolist()),
        "mask": [f32(row) for row in mask.tolist()],
        "denoised": f32(denoised.tolist()),
    }, f)
print("wrote mask_fc_relu.pth and mask_fc_relu.json with torch", torch.__version__, "frames", mask.shape[0])
