#!/usr/bin/env bash
# The README's first command (`make example`) runs this: the main job on the bundled example
# cell type with the bundled model, end to end, in well under a minute on a laptop CPU.
#   1. predict expression for every gene straight from the raw files (the card command)
#   2. call the learned regulatory elements as BED and pipe them through bedtools
#   3. draw one locus with its tracks, mask, elements and the planted truth
#   4. preprocess the same files into a store and summarise it
# Outputs go to examples/out/ (data on stdout is shown with head).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"
mkdir -p "$out"
cd "$here/sim_example"            # seq2exp.toml here names the genome, tracks and Hi-C
export SEQ2EXP_PROGRESS=0

echo "== seq2exp predict --genes genes.tsv --dnase dnase.bw > predictions.tsv" >&2
seq2exp predict --genes genes.tsv --dnase dnase.bw > "$out/predictions.tsv"
head -5 "$out/predictions.tsv" | column -t

echo "== seq2exp call-elements > elements.bed" >&2
seq2exp call-elements > "$out/elements.bed"
head -4 "$out/elements.bed" | column -t
echo "elements: $(grep -vc '^#' "$out/elements.bed"); merged with bedtools: \
$(seq2exp call-elements 2>/dev/null | bedtools merge -i - | wc -l); overlapping planted enhancers: \
$(grep -w enhancer truth_elements.bed | bedtools intersect -a "$out/elements.bed" -b - -u | wc -l)"

gene=$(awk 'NR==2 {print $1}' "$out/predictions.tsv")
echo "== seq2exp plot-locus $gene -o locus.png --truth truth_elements.bed" >&2
seq2exp plot-locus "$gene" -o "$out/locus.png" --truth truth_elements.bed

echo "== seq2exp preprocess store && seq2exp inspect store" >&2
seq2exp preprocess "$out/store" --genes genes.tsv --h3k27ac h3k27ac.bw --dnase dnase.bw \
  --hic contacts.hic --targets cage.tsv --blacklist blacklist.bed --force
seq2exp inspect "$out/store"
echo "outputs in $out: predictions.tsv elements.bed locus.png store/" >&2
