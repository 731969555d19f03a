"""Record the calibrated element cutoff in a trained model that lacks one.

``seq2exp train`` does this itself when training ends (seq2exp_cli.training.loop
.calibrate_best); this script does it for a checkpoint trained before that, or again on
other genes:

    python scripts/calibrate_model.py RUN STORE [--split val] [--quantile Q]

RUN is a run folder (its best/) or a checkpoint folder; STORE the store it was trained on.
Prints the cutoff and writes it, with its rule, into the checkpoint's config.json (the
weights are untouched).
"""

from __future__ import annotations

import argparse

from seq2exp_cli.inference.calibrate import ELEMENT_QUANTILE, OPEN_GATE, calibrate_cutoff
from seq2exp_cli.models.checkpoint import load_model, update_meta
from seq2exp_cli.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("store")
    ap.add_argument("--split", default="val")
    ap.add_argument("--quantile", type=float, default=ELEMENT_QUANTILE)
    ap.add_argument("--open-gate", type=float, default=OPEN_GATE)
    args = ap.parse_args()
    st = Store(args.store)
    model = load_model(args.model, device="cpu")
    got = calibrate_cutoff(st, model, st.indices(args.split), args.quantile, args.open_gate)
    if got is None:
        raise SystemExit(f"{args.model}: not a gate-form Seq2Exp model, or no accessible "
                         f"region in the {args.split} windows: nothing recorded")
    path = update_meta(args.model, **got)
    print(f"element cutoff {got['element_cutoff']:.6f} "
          f"({got['element_cutoff_rule']['n_regions']:,} regions) written to {path}")


if __name__ == "__main__":
    main()
