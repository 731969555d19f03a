#!/usr/bin/env bash
# Issue "evaluation": can an option of the mask make the learned elements separate enhancers
# from decoys at a CPU budget?  Seq2Exp runs of 400 steps (seed 2) with the opt-in fields
# mask_token, generator_signals, window_pool, kl_weight and signal_scale, each scored against
# the planted truth on the test windows beside the same MACS3 peaks, and the generator's
# learning signal measured with benchmarks/mask_gradients.py.  Figures: docs/models.md
# ("Options of the mask at 400 steps").  About 15 min per run on an idle 2-core machine; run
# the trainings one after another (two torch processes on 2 cores slow each other ~10x).
#
#   bash benchmarks/mask_options_on_simulation.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-scratch/models}
mkdir -p "$work" && cd "$work"
# shellcheck source=simulated_store.sh
source "$here/simulated_store.sh"

common=(--steps 400 --seed 2 --device cpu --set n_gene_features=0 --set eval_every=100)
declare -A runs=(
    [soft_tok_gsig]="--preset cpu --set mask_token=true --set generator_signals=true"
    [soft_tok]="--preset cpu --set mask_token=true"
    [soft_tok_gsig_wp]="--preset cpu --set mask_token=true --set generator_signals=true --set window_pool=true"
    [soft_tok_gsig_wp_kl001]="--preset cpu --set mask_token=true --set generator_signals=true --set window_pool=true --set kl_weight=0.001"
    [soft_tok_gsig_wp_c1]="--preset cpu --set mask_token=true --set generator_signals=true --set window_pool=true --set signal_scale=1.0"
    [hard_wp]="--preset cpu-hard --set window_pool=true"
    [hard_wp_1000]="--preset cpu-hard --set window_pool=true --steps 1000"
)
# the checkpoint scored: best by validation MSE, except where the last one is asked for
declare -A scored=([hard_wp_1000]=last)
mkdir -p options
for name in "${!runs[@]}"; do
    run=options/$name
    # shellcheck disable=SC2086
    [ -d "$run/best" ] || seq2exp train store -o "$run" "${common[@]}" ${runs[$name]}
    ckpt=$run/${scored[$name]:-best}
    seq2exp call-elements --store store --model "$ckpt" --split test \
        --bigwig "$run.test.bw" > "$run.test.bed"
    if [ -f options/macs3.narrowPeak ]; then peaks=(--peaks options/macs3.narrowPeak)
    else peaks=(--call-peaks --dnase sim/dnase.bw); fi
    seq2exp compare-peaks --mask "$run.test.bw" --truth sim/truth_elements.bed "${peaks[@]}" \
        --store store --split test -o "$run.compare" > "$run.compare.md"
    [ -f options/macs3.narrowPeak ] || cp "$run.compare.macs3.narrowPeak" options/macs3.narrowPeak
    python "$here/mask_gradients.py" "$ckpt" store sim/truth_elements.bed > "$run.gradients.tsv"
done
