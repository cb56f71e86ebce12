#!/usr/bin/env python3
"""PyTorch side of the speaker-encoder parity test (PyTorchParityTests): the assignment's encoder written the way a
PyTorch user writes it -- bidirectional GRU, mean over each utterance's valid frames (packed sequences), a linear
layer, L2 normalization -- seeded, saved with torch.save(model.state_dict()), and its embeddings of a padded batch
of two utterances of different lengths. The C# test reads the file with PyTorchFile, maps the names onto Dls's
GruSpeakerEncoder with StateDictImport (its input normalization kept at identity) and compares the embeddings.

Made with Debian 12's python3-torch 1.13.1+dfsg, which reports itself as 1.13.0a0 (CPU):  /usr/bin/python3 make_speaker_parity.py  (writes beside itself).
Small shapes (10 input bins, hidden 6 per direction, embedding 5) keep the file a few kilobytes; the assignment's is
513 -> 256 per direction -> FC 512 -> 256.
"""
import json
import os

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(4242)

bins, hidden, embedding = 10, 6, 5


class SpeakerEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(bins, hidden, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(2 * hidden, embedding)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        padded, _ = pad_packed_sequence(out, batch_first=True)
        pooled = padded.sum(1) / lengths.unsqueeze(1).to(padded.dtype)
        return nn.functional.normalize(self.linear(pooled), p=2, dim=1)


model = SpeakerEncoder().eval()
lengths = torch.tensor([7, 4])
features = torch.randn(2, 7, bins)
features[1, 4:] = 0  # padding after the shorter utterance
with torch.no_grad():
    embeddings = model(features, lengths)

torch.save(model.state_dict(), os.path.join(here, "speaker_encoder.pth"))
with open(os.path.join(here, "speaker_encoder.json"), "w") as f:
    json.dump({
        "torch_version": torch.__version__,
        "shape": {"bins": bins, "hidden": hidden, "embedding": embedding},
        "lengths": lengths.tolist(),
        "features": features.tolist(),
        "embeddings": embeddings.tolist(),
    }, f, indent=1)
print("wrote speaker_encoder.pth and speaker_encoder.json with torch", torch.__version__)
