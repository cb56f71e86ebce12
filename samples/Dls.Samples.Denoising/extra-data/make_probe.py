#!/usr/bin/env python3
"""Probe set for choosing a denoising recipe without the test set: held-out voices mixed with held-out noise.

Not a runtime dependency of Dls (numpy and soundfile only; Debian: python3-numpy python3-soundfile). It writes a
homework-layout folder (tex/tes/ten<iiii>.wav, trx == trs + trn exactly on the 16-bit samples, like the corpus) and
probe.csv (mixture, speaker_id, noise_type, snr_db), which `dls-samples denoise-eval --data OUT` scores.

  make_probe.py --speakers DIR [DIR ...] --voices V [V ...] --babble-voices V [V ...] --music WAV --out OUT

Targets: 1 s-ish excerpts (0.8-1.35 s, as the corpus pairs) of the utterances of --voices. Noise: babble of 4-6
talkers drawn from --babble-voices (6 sources of 30 s), the --music track, and fresh white and pink noise;
SNR uniform in [-5, 10] dB, largest peak scaled to [0.5, 0.95] as in the corpus. Seeded: the same inputs give the
same files.
"""
import argparse
import csv
import glob
import os

import numpy as np
import soundfile as sf

RATE = 16000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--speakers", nargs="+", required=True, help="folders holding <speaker>/<utterance>.wav")
    ap.add_argument("--voices", nargs="+", required=True, help="target speakers (never trained on)")
    ap.add_argument("--babble-voices", nargs="+", required=True, help="babble talkers (never trained on)")
    ap.add_argument("--music", required=True, help="a music track never trained on (16 kHz mono)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--counts", default="babble=40,music=40,white=16,pink=16")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)

    def utterances(voice):
        for root in a.speakers:
            files = sorted(glob.glob(os.path.join(root, voice, "*.wav")))
            if files:
                return files
        raise SystemExit(f"make_probe: no utterances of '{voice}' under {a.speakers}")

    def load(path):
        x, rate = sf.read(path, dtype="float32")
        if rate != RATE or x.ndim != 1:
            raise SystemExit(f"make_probe: expected 16 kHz mono, found {rate} Hz, shape {x.shape} in {path}")
        return x

    def talker(voice, n):
        files, parts = utterances(voice), []
        while sum(len(p) for p in parts) < n:
            parts.append(load(files[rng.integers(len(files))]))
            parts.append(np.zeros(rng.integers(800, 4000), np.float32))
        return np.concatenate(parts)[:n]

    def colored(alpha, seconds=60):
        n = seconds * RATE
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / RATE)
        gain = np.where(f < 20, 0.0, 1 / np.maximum(f, 1) ** (alpha / 2))
        x = np.fft.irfft(spectrum * gain, n)
        return (x / np.abs(x).max() * 0.5).astype(np.float32)

    babble = []
    for _ in range(6):
        voices = rng.choice(a.babble_voices, rng.integers(4, 7), replace=False)
        # Each talker is scaled by the RMS of a second draw of the same voice (about its own level): the first version
        # of this script did so, and keeping it reproduces the probe files the README's figures were measured on.
        x = sum(talker(v, 30 * RATE) / np.sqrt(np.mean(talker(v, 30 * RATE) ** 2) + 1e-12) for v in voices)
        babble.append((x / np.abs(x).max() * 0.5).astype(np.float32))
    music = load(a.music)
    white = rng.standard_normal(60 * RATE).astype(np.float32) * 0.1
    sources = {"babble": babble, "music": music, "white": white, "pink": colored(1)}
    targets = [(v, f) for v in a.voices for f in utterances(v)]

    kinds = []
    for item in a.counts.split(","):
        kind, count = item.split("=")
        kinds += [kind] * int(count)
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for i, kind in enumerate(kinds):
        voice, path = targets[rng.integers(len(targets))]
        s = load(path)
        n = min(int(rng.uniform(0.8, 1.35) * RATE), len(s))
        start = rng.integers(0, len(s) - n + 1)
        s = s[start:start + n].astype(np.float64)
        src = babble[rng.integers(len(babble))] if kind == "babble" else sources[kind]
        start = rng.integers(0, len(src) - n)
        noise = src[start:start + n].astype(np.float64)
        snr = rng.uniform(-5, 10)
        noise *= np.sqrt(np.sum(s ** 2) / (np.sum(noise ** 2) * 10 ** (snr / 10)))
        gain = rng.uniform(0.5, 0.95) / max(np.abs(s + noise).max(), np.abs(s).max(), np.abs(noise).max())
        clean16 = np.round(s * gain * 32767).astype(np.int16)
        noise16 = np.round(noise * gain * 32767).astype(np.int16)
        mix16 = (clean16.astype(np.int32) + noise16).astype(np.int16)
        for prefix, data in (("tes", clean16), ("ten", noise16), ("tex", mix16)):
            sf.write(os.path.join(a.out, f"{prefix}{i:04d}.wav"), data, RATE, subtype="PCM_16")
        rows.append((f"tex{i:04d}.wav", voice, kind, round(snr, 3)))
    with open(os.path.join(a.out, "probe.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["mixture", "speaker_id", "noise_type", "snr_db"])
        w.writerows(rows)
    print(f"make_probe: {len(rows)} pairs in {a.out}")


if __name__ == "__main__":
    main()
