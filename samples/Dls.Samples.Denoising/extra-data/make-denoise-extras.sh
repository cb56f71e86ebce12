#!/usr/bin/env bash
# Makes a data folder for `run denoise-train --data OUT/denoise`: the Dls speech corpus CORPUS (linked, not copied) plus
# more training material from Debian packages — more voices (espeak-ng variants, made by the speaker sample's
# make-extra-voices.sh) and more music (the asterisk-moh-opsound-wav tracks that CORPUS's test noise does not use).
#
#   make-denoise-extras.sh CORPUS OUT
#
#   CORPUS  the Dls speech corpus (speakers/, speakers.csv, denoise/train+test, noise/train+test)
#   OUT     created: OUT/denoise -> CORPUS/denoise, OUT/noise/test -> CORPUS/noise/test,
#           OUT/noise/train = CORPUS/noise/train + 8-second excerpts of the extra music tracks,
#           OUT/speakers + OUT/speakers.csv = CORPUS's speakers + one train speaker per unused espeak-ng variant
#
# What keeps the test honest: no test voice (every variant CORPUS uses, in any split, is left out by
# make-extra-voices.sh) and no test music (every track named by a CORPUS/noise/test/music_<track>.wav file is left out).
# Needs: espeak-ng, sox, asterisk-moh-opsound-wav (Debian: apt-get install espeak-ng sox asterisk-moh-opsound-wav).
set -euo pipefail

corpus=${1:?usage: make-denoise-extras.sh CORPUS OUT}
out=${2:?usage: make-denoise-extras.sh CORPUS OUT}
moh=/usr/share/asterisk/moh
[[ -d "$moh" ]] || { echo "make-denoise-extras: no music in '$moh'; install asterisk-moh-opsound-wav" >&2; exit 2; }
[[ -d "$corpus/denoise/train" && -d "$corpus/noise/train" && -d "$corpus/noise/test" ]] \
  || { echo "make-denoise-extras: expected $corpus/denoise/train, $corpus/noise/train and $corpus/noise/test" >&2; exit 2; }
corpus=$(cd "$corpus" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

"$here/../../Dls.Samples.Speaker/extra-voices/make-extra-voices.sh" "$corpus" "$out"

mkdir -p "$out/noise/train"
[[ -e "$out/denoise" ]] || ln -s "$corpus/denoise" "$out/denoise"
[[ -e "$out/noise/test" ]] || ln -s "$corpus/noise/test" "$out/noise/test"
for f in "$corpus"/noise/train/*.wav; do
  [[ -e "$out/noise/train/$(basename "$f")" ]] || ln -s "$f" "$out/noise/train/"
done

test_tracks=$(for f in "$corpus"/noise/test/music_*.wav; do [[ -e "$f" ]] && basename "$f" .wav | sed 's/^music_//'; done)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
excerpts=0
tracks=0
for track in "$moh"/*.wav; do
  name=$(basename "$track" .wav)
  if grep -qxF "$name" <<<"$test_tracks"; then continue; fi
  # 8-second excerpts (near the 6 s of the corpus' own music sources), so that the mixer, which draws a source at
  # random, meets music about as often as the other noise sources rather than once per track.
  sox -V1 -R "$track" -r 16000 -c 1 -b 16 "$tmp/x.wav" trim 0 8 : newfile : restart
  for piece in "$tmp"/x*.wav; do
    mv "$piece" "$out/noise/train/extra_music_${name}_$(basename "$piece" .wav | sed 's/^x//').wav"
    excerpts=$((excerpts + 1))
  done
  tracks=$((tracks + 1))
done
echo "make-denoise-extras: $excerpts music excerpts of $tracks tracks in $out/noise/train (left out as test music: ${test_tracks//$'\n'/, })"
