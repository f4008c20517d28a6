#!/usr/bin/env bash
# Records three sessions on the same data (same --seed) and renders docs/compare.gif:
# supervised gradient steps, thompson driven by Next (auto-scored), thompson driven by `nnreplay rate`
# presses from a scripted person who rates what the boundary looks like (its accuracy).
set -euo pipefail
cd "$(dirname "$0")/.."
export NNREPLAY_DB="$(mktemp -d)/compare.db"
SEED=11
PRESSES=60
nnreplay new --seed "$SEED" --lr 0.5 --name supervised >/dev/null
nnreplay new --seed "$SEED" --learner thompson --name auto-scored >/dev/null
nnreplay new --seed "$SEED" --learner thompson --name rated >/dev/null
nnreplay next supervised -n "$PRESSES" >/dev/null
nnreplay next auto-scored -n "$PRESSES" >/dev/null
for _ in $(seq "$PRESSES"); do
  accuracy=$(nnreplay show rated --json | python -c "import json, sys; print(json.load(sys.stdin)['accuracy'])")
  button=$(python -c "a = $accuracy; print('bad' if a < 0.6 else 'meh' if a < 0.8 else 'good' if a < 0.95 else 'great')")
  nnreplay rate rated "$button" >/dev/null
done
nnreplay replay supervised auto-scored rated -o docs/compare.gif --size 1080 --fps 8
