"""Write the stored expected outputs of the bundled model on the bundled example.

``tests/data/bundled_expected/`` holds what seq2exp at commit 0f13592 (before the CPU
speed-ups of issue 15) computed with ``weights/`` on ``examples/sim_example`` from the raw
files named in its ``seq2exp.toml``:

- ``predictions.tsv``: gene_id and prediction (``%.9g``) of every gene;
- ``masks.npy``: float32 (8, T), the generator's Beta-mean mask per token of the first 8
  genes (``generate_mask``, blacklist applied);
- ``elements.bed``: ``call-elements`` with its defaults.

``tests/test_bundled_expected.py`` holds today's code equal to them (1e-5).  Regenerate
only when the model's results are meant to change::

    PYTHONPATH=CHECKOUT python scripts/make_bundled_expected.py OUT_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"


def main(out: Path) -> None:
    os.environ.setdefault("SEQ2EXP_PROGRESS", "0")
    import numpy as np
    import torch

    from seq2exp_cli.elements import call_elements, write_elements
    from seq2exp_cli.predict import load_predictor, predict
    from seq2exp_cli.store.live import FileWindows
    from seq2exp_cli.store.windows import stack_windows
    from seq2exp_cli.training.batches import check_compatible, to_tensors

    net, cfg, _meta, dev = load_predictor(ROOT / "weights", "cpu")
    e = EXAMPLE
    src = FileWindows(fasta=e / "genome.fa", genes=e / "genes.tsv",
                      tracks={"h3k27ac": e / "h3k27ac.bw", "dnase": e / "dnase.bw"},
                      hic=e / "contacts.hic", targets=e / "cage.tsv",
                      blacklist=e / "blacklist.bed", window_bp=cfg.window_bp)
    out.mkdir(parents=True, exist_ok=True)
    df = predict(src, net, cfg, dev, show_progress=False)
    df[["gene_id", "prediction"]].to_csv(out / "predictions.tsv", sep="\t", index=False,
                                         float_format="%.9g")
    sig = check_compatible(src, cfg, "example")
    b = to_tensors(stack_windows([src.window(i, cfg.window_bp) for i in range(8)]), dev, sig)
    with torch.no_grad():
        m = net.generate_mask(b["seq"], b["signals"], b["blacklist"]).float().numpy()
    np.save(out / "masks.npy", m.astype(np.float32))
    write_elements(call_elements(src, net, cfg, dev, show_progress=False), out / "elements.bed")
    src.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
