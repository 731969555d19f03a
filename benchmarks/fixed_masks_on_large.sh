#!/usr/bin/env bash
# Issue 11, step 2: how much can the expression loss separate enhancers from decoys at all?
# The same predictor (the cpu preset's: Caduceus on the masked input + the additive
# contact-weighted readout) trained on the large simulation with three fixed masks:
#   planted  - the planted enhancers (the truth; decoys left out)
#   dnase    - MACS3 peaks on DNase (enhancers and decoys alike)
#   none     - no mask (every token kept)
# and the same three with the paper's promoter-only head (readout=promoter).  Validation MSE
# of each run's best checkpoint: docs/models.md, "What the expression loss can tell apart".
#
#   bash benchmarks/fixed_masks_on_large.sh [WORKDIR] [STEPS]
# HEADS="additive" runs the additive head only (the three runs docs/models.md reports).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-scratch/large}
steps=${2:-1000}
mkdir -p "$work" && cd "$work"
# shellcheck source=large_simulation.sh
source "$here/large_simulation.sh"

# the bundled model's settings (no gene features, 120 warm-up steps), so that the runs differ
# from it only in where the mask comes from
common=(--preset cpu --no-features --steps "$steps" --seed 2 --device cpu --set warmup=120
        --set eval_every=250 --set checkpoint_every=250)
mkdir -p fixed
for head in ${HEADS:-additive promoter}; do
    for mask in planted dnase none; do
        run=fixed/${mask}_$head
        case $mask in
            planted) src=(--mask-from-peaks "planted_L$SEED.bed" --keep-fraction 1.0) ;;
            dnase) src=(--mask-from-peaks "macs3_L$SEED.macs3.narrowPeak" --keep-fraction 1.0) ;;
            none) src=(--model caduceus-signals) ;;
        esac
        [ -d "$run/best" ] || seq2exp train "$store" -o "$run" "${common[@]}" \
            --set readout=$head "${src[@]}"
        printf '%s\t%s\t' "$mask" "$head"
        python3 - "$run/val_metrics.tsv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
best = min(rows, key=lambda r: float(r["mse"]))
print(f"best step {best['step']}\tval MSE {float(best['mse']):.4f}\tval Pearson {float(best['pearson']):.4f}")
EOF
    done
done
