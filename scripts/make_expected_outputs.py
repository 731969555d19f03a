"""Regenerate the stored expected outputs of the bundled model on the bundled example.

    python scripts/make_expected_outputs.py

writes ``tests/data/expected/bundled_predictions.tsv``: the predictions of the model in
``weights/`` on ``examples/sim_example/`` with every input its ``seq2exp.toml`` names (what
``seq2exp predict --genes genes.tsv --dnase dnase.bw`` gives there), on the CPU, with nine
significant digits.  Run it after retraining the bundled model and commit the file with the
new weights; ``tests/test_bundled_model.py`` holds the model to it within 1e-5.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"
OUT = ROOT / "tests" / "data" / "expected" / "bundled_predictions.tsv"

#: the example's inputs, as its seq2exp.toml names them
INPUTS = dict(fasta="genome.fa", genes="genes.tsv", h3k27ac="h3k27ac.bw", dnase="dnase.bw",
              hic="contacts.hic", targets="cage.tsv", blacklist="blacklist.bed")


def bundled_predictions():
    """Predict every gene of the example with the bundled model on the CPU (a DataFrame)."""
    import seq2exp_cli as s2e

    files = {k: EXAMPLE / v for k, v in INPUTS.items()}
    return s2e.predict(s2e.load_model(device="cpu"), progress=False, **files)


def main() -> None:
    """Write :data:`OUT`."""
    from seq2exp_cli.io.tables import write_tsv

    df = bundled_predictions()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_tsv(df, OUT, float_format="%.9g")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(df)} genes)")


if __name__ == "__main__":
    main()
