"""Package a trained run's best model as the bundled weights (``weights/``).

    python scripts/package_weights.py RUN_DIR WORKDIR weights/

Copies ``RUN_DIR/best/{model.safetensors,config.json}`` (the config carries the weights'
sha256, verified on every load) and writes ``manifest.json``: the training command and
data (from ``RUN_DIR/run.json`` and ``WORKDIR/sim/truth.json``), the model config, the
sha256, and the validation and test metrics found in ``RUN_DIR`` and
``WORKDIR/eval_test.tsv``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd


def main(run: Path, work: Path, out: Path) -> None:
    from seq2exp_cli.models.checkpoint import load_model, sha256_file

    best = run / "best"
    load_model(best, device="cpu")  # refuses corrupt weights before anything is copied
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "config.json"):
        shutil.copyfile(best / name, out / name)
    cfg = json.loads((out / "config.json").read_text())
    run_info = json.loads((run / "run.json").read_text())
    manifest = {
        "description": f"Seq2Exp, {run_info['model']['variant']} mask, trained by seq2exp on a simulated cell type",
        "command": (work / "train.cmd").read_text().strip() if (work / "train.cmd").exists() else None,
        "weights": "model.safetensors",
        "weights_sha256": sha256_file(out / "model.safetensors"),
        "selected_step": cfg["meta"].get("step"),
        "validation": cfg["meta"].get("val"),
        "element_cutoff": cfg["meta"].get("element_cutoff"),
        "element_cutoff_rule": cfg["meta"].get("element_cutoff_rule"),
        "model_config": cfg["model_config"],
        "train_config": run_info["train"],
        "training_data": {
            "simulation": None,
            "train_genes": run_info["train_genes"], "val_genes": run_info["val_genes"],
        },
    }
    truth = work / "sim" / "truth.json"
    if truth.exists():
        t = json.loads(truth.read_text())
        manifest["training_data"]["simulation"] = t.get("command")
        manifest["training_data"]["noise_ceiling"] = t["noise_ceiling"]
    ev = work / "eval_test.tsv"
    if ev.exists():
        manifest["test"] = pd.read_csv(ev, sep="\t").to_dict(orient="records")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    print(f"wrote {out}: {', '.join(p.name for p in sorted(out.iterdir()))}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
