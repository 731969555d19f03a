# Sourced by the large-simulation benchmark scripts: in the current folder, make (once) the
# `large`-preset simulated cell type `large$SEED/` (667 Mb, 6,661 genes; SEED defaults to 1),
# its store `store_L$SEED/` (5.7 GB), its genome-wide MACS3 peaks on DNase
# (`macs3_L$SEED.macs3.narrowPeak`) and its planted enhancers as BED
# (`planted_L$SEED.bed`).  Measured on the 2-core machine with other jobs sharing it:
# simulate 15 min 34 s (peak RSS 7.3 GiB), preprocess 10 min 9 s.
export SEQ2EXP_PROGRESS=${SEQ2EXP_PROGRESS:-0}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} NUMBA_NUM_THREADS=${NUMBA_NUM_THREADS:-1}
SEED=${SEED:-1}
sim=large$SEED
store=store_L$SEED
[ -d "$sim" ] || seq2exp simulate "$sim" --size large --seed "$SEED"
[ -d "$store" ] || seq2exp preprocess "$store" --fasta "$sim/genome.fa" --genes "$sim/genes.tsv" \
    --h3k27ac "$sim/h3k27ac.bw" --dnase "$sim/dnase.bw" --hic "$sim/contacts.hic" \
    --targets "$sim/cage.tsv" --blacklist "$sim/blacklist.bed"
[ -f "macs3_L$SEED.macs3.narrowPeak" ] || seq2exp compare-peaks --store "$store" --split all \
    --call-peaks --dnase "$sim/dnase.bw" -o "macs3_L$SEED" > /dev/null
[ -f "planted_L$SEED.bed" ] || awk -F'\t' '$4 == "enhancer"' "$sim/truth_elements.bed" \
    | cut -f1-5 > "planted_L$SEED.bed"
