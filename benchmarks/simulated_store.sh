# Sourced by the benchmark scripts: in the current folder, make (once) the `train`-preset
# simulated cell type `sim/` (60 Mb, ~600 genes, seed 1) and its store `store/`.
export SEQ2EXP_PROGRESS=${SEQ2EXP_PROGRESS:-0}
[ -d sim ] || seq2exp simulate sim --size train --seed 1
[ -d store ] || seq2exp preprocess store --fasta sim/genome.fa --genes sim/genes.tsv \
    --h3k27ac sim/h3k27ac.bw --dnase sim/dnase.bw --hic sim/contacts.hic \
    --targets sim/cage.tsv --blacklist sim/blacklist.bed
