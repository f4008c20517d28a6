#!/usr/bin/env bash
# Renders the README's stills of the five data sets (docs/data-*.png), each with a model that learns it
# after 300 Next presses (spiral: two hidden layers, 1000), and docs/lesson.gif: a perceptron and a hidden
# layer of 8 on the same xor points. Run from anywhere; writes into docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
export NNREPLAY_DB="$(mktemp -d)/models.db"
nnreplay() { python -m cli "$@"; }
still() {  # NAME PRESSES OPTIONS...
  local name=$1 presses=$2; shift 2
  nnreplay new --seed 3 --points 100 --name "$name" "$@" >/dev/null
  nnreplay next "$name" -n "$presses" >/dev/null
  nnreplay frame "$name" -o "docs/data-$name.png" --size 320 >/dev/null
}
still linear 300
still xor 300 --data xor --hidden 8
still circle 300 --data circle --features x2,y2
still gauss 300 --data gauss
still spiral 1000 --data spiral --hidden 8,8
nnreplay new --seed 1 --points 100 --data xor --name perceptron >/dev/null
nnreplay new --seed 1 --points 100 --data xor --hidden 8 --test-share 0.2 --name hidden-8 >/dev/null
nnreplay next perceptron -n 300 >/dev/null
nnreplay next hidden-8 -n 300 >/dev/null
nnreplay replay perceptron hidden-8 -o docs/lesson.gif --size 720 --max-frames 80 --fps 10
