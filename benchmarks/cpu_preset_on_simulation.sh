#!/usr/bin/env bash
# Issue "main job", done-when figures: the `cpu` presets trained on 2 cores on a simulated
# cell type large enough to learn (60 Mb, ~600 genes), scored on the test chromosomes
# (chr22, chrX): expression Pearson against the simulator's noise ceiling, and base-pair
# AUPRC of the learned mask against the planted enhancers beside the DNase-only baseline
# and MACS3 peaks.  This is also how weights/ was made (see docs/training.md).
#
#   bash benchmarks/cpu_preset_on_simulation.sh [WORKDIR]   (cpu-hard, 1,000 steps: ~20 min)
#   PRESET=cpu STEPS=3000 bash benchmarks/cpu_preset_on_simulation.sh WORKDIR   (soft: ~55 min)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-scratch/cpu_preset}
mkdir -p "$work" && cd "$work"
# shellcheck source=simulated_store.sh
source "$here/simulated_store.sh"
seq2exp inspect store
if [ -d run ]; then resume=--resume; else resume=; fi
/usr/bin/time -v seq2exp train store -o run --preset ${PRESET:-cpu-hard} --no-features --steps ${STEPS:-1000} --device cpu $resume \
    2> train.time
seq2exp plot-training run -o training.png

seq2exp predict --store store --model run --split test > pred_test.tsv
seq2exp evaluate pred_test.tsv --store store -o eval_test --plot pred_vs_measured_test.png
python -c "import json; print('noise ceiling (test):', json.load(open('sim/truth.json'))['noise_ceiling'])"

seq2exp call-elements --store store --model run --split test --bigwig mask_test.bw > elements_test.bed
seq2exp compare-peaks --mask mask_test.bw --truth sim/truth_elements.bed \
    --call-peaks --dnase sim/dnase.bw --h3k27ac sim/h3k27ac.bw --store store --split test \
    --crispri sim/truth_crispri.tsv -o compare_test --plot-dir plots
