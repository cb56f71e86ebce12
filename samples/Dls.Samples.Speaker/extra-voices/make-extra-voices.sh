#!/usr/bin/env bash
# Makes extra training voices for `run speaker-train` with espeak-ng and sox, and a data folder that holds them beside
# an existing speaker corpus (its speakers are linked, not copied; its speakers.csv split is kept as it is).
#
#   make-extra-voices.sh CORPUS OUT [UTTERANCES_PER_VOICE]
#
#   CORPUS  a folder with speakers/<id>/*.wav and speakers.csv (the Dls speech corpus layout)
#   OUT     created: OUT/speakers/<id> (links to CORPUS's speakers + the new voices), OUT/speakers.csv
#
# Each new voice is one espeak-ng voice variant (voices/!v) on en-us, in the 'train' split. Left out: every variant
# that CORPUS already uses in any split, so no test voice (and no train voice) appears twice. Utterances are random
# sequences of the words below, speaking rate ×0.9–1.1, converted to 16 kHz mono 16-bit PCM, silence trimmed at −45 dB,
# 3 ms fades, peaks at −3 dBFS, kept to 1.5–2.5 s — the corpus README's recipe. Deterministic for a given espeak-ng.
# Needs: espeak-ng, sox (Debian: apt-get install espeak-ng sox).
set -euo pipefail

corpus=${1:?usage: make-extra-voices.sh CORPUS OUT [UTTERANCES_PER_VOICE]}
out=${2:?usage: make-extra-voices.sh CORPUS OUT [UTTERANCES_PER_VOICE]}
per_voice=${3:-24}
for tool in espeak-ng sox soxi; do
  command -v "$tool" >/dev/null || { echo "make-extra-voices: '$tool' not found; install espeak-ng and sox" >&2; exit 2; }
done
[[ -f "$corpus/speakers.csv" && -d "$corpus/speakers" ]] || { echo "make-extra-voices: expected $corpus/speakers.csv and $corpus/speakers/" >&2; exit 2; }
corpus=$(cd "$corpus" && pwd)

data_dir=$(espeak-ng --version | sed -n 's/.*Data at: *//p')
variants_dir="$data_dir/voices/!v"
[[ -d "$variants_dir" ]] || { echo "make-extra-voices: no variant folder at '$variants_dir'" >&2; exit 2; }

# Variants the corpus already uses (the part after '+' in its espeak-ng voice names, e.g. en-us+m4 → m4).
used=$(awk -F, 'NR > 1 && $2 == "espeak-ng" { n = split($3, p, "+"); if (n > 1) print p[2] }' "$corpus/speakers.csv" | sort -u)

words=(about above across after again air all almost along also always animal another answer apple area around ask
  away back ball basket became because before began behind below best better between big bird black blue boat body
  book both bottom box boy bread bring brother brown build busy call came car carry cat center change children city
  class clean close cloud cold color come common country cover cross dark day deep differ dinner dog door down draw
  dream drive dry during early earth east easy eight end enough even evening every example face fall family far farm
  fast father field fine fire first fish five floor flower fly follow food foot forest form four free friend front full
  game garden gave girl glass gold good grass great green ground group grow half hand happy hard head hear heavy help
  high hill hold home horse hot hour house hundred idea island just keep kind king kitchen lake land large last late
  laugh learn leave left letter light line list listen little live long look low machine made main many map mark
  measure middle might mile milk minute money moon morning mother mountain move music name near never new next night
  north number ocean office often old open orange order other over page paper party pattern people picture piece place
  plain plant play point power pretty problem pull question quick quiet rain read ready real record red remember rest
  river road rock room round rule run sail salt same sand school sea season second seven shape ship short silver simple
  sister sleep slow small snow soft song south space speak spring square stand star start station stone story street
  strong study summer sun table tall teacher ten thing think three through time today together town train travel tree
  true turn under upon valley very village voice wait walk warm watch water wave weather week west wheel white whole
  wide wind window winter wonder wood word work world write yard year yellow young)

mkdir -p "$out/speakers"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv_tmp="$out/speakers.csv.tmp"
tr -d '\r' <"$corpus/speakers.csv" >"$csv_tmp"   # one line ending (LF) for the rows kept and added
for dir in "$corpus"/speakers/*/; do
  id=$(basename "$dir")
  [[ -e "$out/speakers/$id" ]] || ln -s "$dir" "$out/speakers/$id"
done

made=0
seed=1
for file in "$variants_dir"/*; do
  variant=$(basename "$file")
  if grep -qxF "$variant" <<<"$used"; then continue; fi
  id="espkx_${variant// /_}"
  id=${id,,}
  mkdir -p "$out/speakers/$id"
  RANDOM=$seed
  seed=$((seed + 1))
  n=0
  attempts=0
  count=6
  while (( n < per_voice )); do
    (( attempts++ < per_voice * 8 )) || { echo "make-extra-voices: variant '$variant' gave $n of $per_voice utterances of 1.5–2.5 s in $((per_voice * 8)) attempts" >&2; exit 1; }
    text=""
    for ((w = 0; w < count; w++)); do text+="${words[RANDOM % ${#words[@]}]} "; done
    rate=$((175 * (90 + RANDOM % 21) / 100))
    espeak-ng -v "en-us+$variant" -s "$rate" -w "$tmp/raw.wav" "$text" 2>/dev/null || continue
    sox -R "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$tmp/utt.wav" norm \
      silence 1 0.005 -45d reverse silence 1 0.005 -45d fade t 0.003 reverse fade t 0.003 norm -3 2>/dev/null || continue
    duration=$(soxi -D "$tmp/utt.wav")
    case $(awk -v d="$duration" 'BEGIN { print (d < 1.5) ? "short" : (d > 2.5) ? "long" : "ok" }') in
      short) count=$((count + 1)); continue ;;
      long) count=$((count > 2 ? count - 1 : 2)); continue ;;
    esac
    mv "$tmp/utt.wav" "$out/speakers/$id/$(printf '%s_%03d.wav' "$id" "$n")"
    n=$((n + 1))
  done
  echo "$id,espeak-ng,en-us+$variant,en-US,,no,train" >>"$csv_tmp"
  made=$((made + 1))
done
mv "$csv_tmp" "$out/speakers.csv"
echo "make-extra-voices: $made new voices × $per_voice utterances in $out/speakers (beside $(($(wc -l <"$corpus/speakers.csv") - 1)) corpus speakers)"
