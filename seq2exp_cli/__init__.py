"""seq2exp: learn regulatory elements and predict gene expression (Seq2Exp, ICLR 2025).

The package is a library first; the ``seq2exp`` command is a thin layer over it.  Its
public face is lazy (importing ``seq2exp_cli`` loads neither torch nor any reader)::

    import seq2exp_cli as s2e
    model = s2e.load_model()
    preds = s2e.predict(model, fasta="genome.fa", genes="genes.tsv", dnase="dnase.bw")

- :func:`load_model`, :func:`predict`, :func:`call_elements`, :func:`call_links`,
  :func:`preprocess`,
  :func:`train`, :func:`open_source` (:mod:`seq2exp_cli.api`).
- :class:`Store`, the dataset store; :func:`contact_profile`, :func:`contact_track`, the
  contact maths on arrays (:mod:`seq2exp_cli.contacts`).

The layers, bottom to top:

- ``seq2exp_cli.io``: every file format (FASTA, genes, targets, bigWig, Hi-C, BED, tables).
- ``seq2exp_cli.contacts``: ABC contact profiles, matrices and power laws.
- ``seq2exp_cli.store``: the preprocessed dataset store and its window API.
- ``seq2exp_cli.models``: selective scan, Mamba, Caduceus, Seq2Exp, the baselines, configs.
- ``seq2exp_cli.inference``: a trained model over a store or raw files.
- ``seq2exp_cli.training``, ``seq2exp_cli.evaluation``: fitting and scoring models.
- ``seq2exp_cli.simulate``: a synthetic cell type written in real file formats.
- ``seq2exp_cli.cli``: the command line, on top; nothing below imports it.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> the module it lives in (imported on first use)
_LAZY = {
    "load_model": "api", "predict": "api", "call_elements": "api", "call_links": "api",
    "preprocess": "api",
    "train": "api", "open_source": "api", "Store": "store", "contact_profile": "contacts",
    "contact_track": "contacts", "TrainedModel": "models.checkpoint",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    """Import a public name of the API on first use (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the module's names with the lazy public ones."""
    return sorted(set(globals()) | set(_LAZY))
