"""Regenerate the stored expected outputs of the bundled model on the bundled example.

    python scripts/make_expected_outputs.py

writes, in ``tests/data/expected/``, what the model in ``weights/`` gives on
``examples/sim_example/`` with every input its ``seq2exp.toml`` names, on the CPU:

- ``bundled_predictions.tsv``: every gene's prediction (what ``seq2exp predict --genes
  genes.tsv --dnase dnase.bw`` gives there), nine significant digits;
- ``bundled_masks.npy``: float32 (8, T), the generator's mask per token of the first 8 genes
  (``generate_mask``, blacklist applied);
- ``bundled_elements.bed``: ``call-elements`` with its defaults.

Run it after retraining the bundled model and commit the files with the new weights;
``tests/test_bundled_model.py`` holds the model to them within 1e-5, so any faster
formulation of the same network (the fused motif scanner, the vectorised scan) must
reproduce them.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"
OUT = ROOT / "tests" / "data" / "expected"

#: the example's inputs, as its seq2exp.toml names them
INPUTS = dict(fasta="genome.fa", genes="genes.tsv", h3k27ac="h3k27ac.bw", dnase="dnase.bw",
              hic="contacts.hic", targets="cage.tsv", blacklist="blacklist.bed")
N_MASKS = 8


def example_files() -> dict:
    """The example's inputs by keyword (paths)."""
    return {k: EXAMPLE / v for k, v in INPUTS.items()}


def bundled_predictions(model=None):
    """Predict every gene of the example with the bundled model on the CPU (a DataFrame)."""
    import seq2exp_cli as s2e

    model = model or s2e.load_model(device="cpu")
    return s2e.predict(model, progress=False, **example_files())


def bundled_masks(model=None):
    """The generator's mask of the example's first :data:`N_MASKS` genes, float32 (8, T)."""
    import torch

    import seq2exp_cli as s2e
    from seq2exp_cli.inference.forward import check_compatible, load_batch, to_tensors

    model = model or s2e.load_model(device="cpu")
    src = s2e.open_source(model, **example_files())
    try:
        b = load_batch(src, list(range(N_MASKS)), model.net)
        sig = check_compatible(src, model.config, "example")
        t = to_tensors(b, model.device, sig)
        with torch.no_grad():
            m = model.net.generate_mask(t["seq"], t["signals"], t["blacklist"])
        return m.float().cpu().numpy().astype("float32")
    finally:
        src.close()


def bundled_elements(model=None):
    """``call-elements`` of the bundled model on the example, defaults (a DataFrame)."""
    import seq2exp_cli as s2e

    model = model or s2e.load_model(device="cpu")
    return s2e.call_elements(model, progress=False, **example_files())


def main() -> None:
    """Write the three files into :data:`OUT`."""
    import numpy as np

    import seq2exp_cli as s2e
    from seq2exp_cli.inference.elements import write_elements
    from seq2exp_cli.io.tables import write_tsv

    model = s2e.load_model(device="cpu")
    OUT.mkdir(parents=True, exist_ok=True)
    df = bundled_predictions(model)
    write_tsv(df, OUT / "bundled_predictions.tsv", float_format="%.9g")
    np.save(OUT / "bundled_masks.npy", bundled_masks(model))
    write_elements(bundled_elements(model), OUT / "bundled_elements.bed")
    print(f"wrote {OUT.relative_to(ROOT)}/bundled_* ({len(df)} genes)")


if __name__ == "__main__":
    main()
