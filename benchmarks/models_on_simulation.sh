#!/usr/bin/env bash
# Issues "evaluation" and "other systems": Table 1 (every model, several seeds) and Table 2
# (learned elements vs MACS3 peaks vs the planted truth) on the `train`-preset simulated cell
# type (60 Mb, ~600 genes), scored on its test chromosomes (chr22, chrX); then the elements
# of the models that score them (ABC, EPInformer) against the same truth.  The figures in
# docs/models.md were measured with exactly these commands on the 2-core development machine.
#
#   bash benchmarks/models_on_simulation.sh [WORKDIR]      (about 1.5 h on 2 CPU cores)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-scratch/models}
mkdir -p "$work" && cd "$work"
# shellcheck source=simulated_store.sh
source "$here/simulated_store.sh"

# Seq2Exp and its no-mask predictors: 150 steps each, 2 seeds, Table 2 on the first seed
seq2exp benchmark store -o bench --models seq2exp-soft,seq2exp-hard,caduceus-signals,caduceus-seq \
    --seeds 2,22 --preset cpu --steps 150 --device cpu --set n_gene_features=0 --set eval_every=50 \
    --truth sim/truth_elements.bed --dnase sim/dnase.bw --h3k27ac sim/h3k27ac.bw --resume

# the other systems at the same budget (3 seeds; one thread each is faster on a shared CPU)
OMP_NUM_THREADS=1 seq2exp benchmark store -o bench_baselines \
    --models epinformer,epiexpr-1d,epiexpr-3d,simplechrome,abc --seeds 2,22,222 --preset cpu \
    --steps 150 --device cpu --set n_gene_features=0 --set eval_every=50
# ... and trained longer (1,000 steps), as the lighter models allow
OMP_NUM_THREADS=1 seq2exp benchmark store -o bench_baselines_1000 \
    --models epinformer,epiexpr-1d,epiexpr-3d,simplechrome --seeds 2,22,222 --preset cpu \
    --steps 1000 --device cpu --set n_gene_features=0 --set eval_every=100

# elements of the element-scoring baselines against the planted truth, MACS3 beside them
for m in abc:bench_baselines/runs/abc/seed2 epinformer:bench_baselines_1000/runs/epinformer/seed2; do
    name=${m%%:*} run=${m#*:}
    seq2exp call-elements --store store --model "$run" --split test --bigwig "$name.test.bw" \
        > "$name.test.bed"
    seq2exp compare-peaks --mask "$name.test.bw" --mask-cutoff 0.02 --truth sim/truth_elements.bed \
        --call-peaks --dnase sim/dnase.bw --h3k27ac sim/h3k27ac.bw --store store --split test \
        --crispri sim/truth_crispri.tsv -o "$name.compare" > "$name.compare.md"
done
