#!/usr/bin/env bash
# Score one trained run on one store's split, as a user would: predict + evaluate, the
# elements and their mask bigWig, the links, and compare-peaks against the planted truth,
# MACS3 peaks on DNase, ABC (activity, Hi-C contact) and the CRISPRi table.
#
#   bash benchmarks/score_run.sh RUN STORE SIM PEAKS SPLIT OUTPREFIX
#
# RUN: run folder (its best checkpoint is scored) or checkpoint folder; STORE: the store;
# SIM: the simulated data set (truth_elements.bed, truth_crispri.tsv, dnase.bw,
# h3k27ac.bw); PEAKS: MACS3 narrowPeak of the same data set ("call" to call them here);
# SPLIT: val or test.  Writes OUTPREFIX.{pred.tsv,eval.tsv,elements.bed,mask.bw,links.tsv,
# cmp.tsv,cmp.md}, the links of every MACS3 peak as candidate (OUTPREFIX.clinks.tsv, scored
# in OUTPREFIX.clinkscmp.{tsv,md}; with --score mask-abc OUTPREFIX.mlinks.tsv and
# OUTPREFIX.mlinkscmp.{tsv,md}) and prints the summary line of
# benchmarks/summarise_runs.py.  The mask's intervals are cut where call-elements cuts
# them: at the model's calibrated cutoff when it records one, else 0.5.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=$1 store=$2 sim=$3 peaks=$4 split=$5 out=$6
export SEQ2EXP_PROGRESS=${SEQ2EXP_PROGRESS:-0}
mkdir -p "$(dirname "$out")"
cfg=$run/best/config.json; [ -f "$cfg" ] || cfg=$run/config.json
cutoff=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])).get("meta") or {}; v=m.get("element_cutoff"); print(0.5 if v is None else v)' "$cfg")
echo "score_run: mask cutoff $cutoff" >&2
seq2exp predict --store "$store" --model "$run" --split "$split" > "$out.pred.tsv"
seq2exp evaluate "$out.pred.tsv" --store "$store" --tsv > "$out.eval.tsv"
seq2exp call-elements --store "$store" --model "$run" --split "$split" \
    --bigwig "$out.mask.bw" > "$out.elements.bed"
seq2exp call-links --store "$store" --model "$run" --split "$split" -o "$out.links.tsv"
if [ "$peaks" = call ]; then pk=(--call-peaks); else pk=(--peaks "$peaks"); fi
seq2exp compare-peaks --mask "$out.mask.bw" --mask-cutoff "$cutoff" \
    --truth "$sim/truth_elements.bed" "${pk[@]}" \
    --dnase "$sim/dnase.bw" --h3k27ac "$sim/h3k27ac.bw" --store "$store" --split "$split" \
    --crispri "$sim/truth_crispri.tsv" --links "$out.links.tsv" -o "$out.cmp" > /dev/null
[ "$peaks" = call ] && peaks=$out.cmp.macs3.narrowPeak
seq2exp call-links --store "$store" --model "$run" --split "$split" --candidates "$peaks" \
    -o "$out.clinks.tsv"
seq2exp compare-peaks --links "$out.clinks.tsv" --crispri "$sim/truth_crispri.tsv" \
    --dnase "$sim/dnase.bw" --h3k27ac "$sim/h3k27ac.bw" --store "$store" --split "$split" \
    -o "$out.clinkscmp" > /dev/null
seq2exp call-links --store "$store" --model "$run" --split "$split" --candidates "$peaks" \
    --score mask-abc -o "$out.mlinks.tsv"
seq2exp compare-peaks --links "$out.mlinks.tsv" --crispri "$sim/truth_crispri.tsv" \
    --dnase "$sim/dnase.bw" --h3k27ac "$sim/h3k27ac.bw" --store "$store" --split "$split" \
    -o "$out.mlinkscmp" > /dev/null
python3 "$here/summarise_runs.py" --truth "$sim/truth.json" --split "$split" "$out"
