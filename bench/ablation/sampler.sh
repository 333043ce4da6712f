#!/usr/bin/env bash
# PC/EM sampler-setting ablation of a CSP model on a fixed random subset of a validation split
# (issue #13: which sampler settings buy match rate at no training cost).
# Every setting uses the same sampler seed, so the runs share their noise draws batch by batch
# (paired comparison). Usage:
#   bash bench/ablation/sampler.sh [model] [dataset] [subset] [out-dir]
# Prints one row per setting: MR@1, RMSE@1, invalid, wall seconds.
set -euo pipefail
model=${1:-mp20-cpu-small}
dataset=${2:-mp_20}
subset=${3:-256}
out=${4:-runs/ablation-sampler}
mkdir -p "$out"
kldm() { node "$(dirname "$0")/../../bin/kldm.mjs" "$@"; }
run() { # label, then kldm sample options
  local label=$1; shift
  local f="$out/$label.jsonl"
  local t0=$SECONDS
  kldm sample --model "$model" --dataset "$dataset" --split val --subset "$subset" --subset-seed 0 --quiet --out "$f" "$@" >/dev/null
  local dt=$((SECONDS - t0))
  kldm evaluate csp --dataset "$dataset" --split val --subset "$subset" --subset-seed 0 --predictions "$f" --quiet --json "$out/$label.report.json" >/dev/null
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log([process.argv[2], (100 * r.mr_at_1).toFixed(2), r.rmse_at_1?.toFixed(4), r.counts.invalid, process.argv[3]].join("\t"));
  ' "$out/$label.report.json" "$label" "$dt"
}
echo -e "setting\tMR@1 %\tRMSE@1\tinvalid\tsample s"
run pc-tau0.25 --sampler pc --tau 0.25
run pc-tau0.1 --sampler pc --tau 0.1
run pc-tau0.5 --sampler pc --tau 0.5
run pc-tau1 --sampler pc --tau 1
run pc-tau0.25-tf0 --sampler pc --tau 0.25 --t-final 0
run em --sampler em
run em-2000 --sampler em --steps 2000
