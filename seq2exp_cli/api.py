"""The Python API: what the ``seq2exp`` commands do, as functions on files, stores and arrays.

``import seq2exp_cli as s2e`` gives these names lazily (importing the package loads
nothing heavy)::

    model = s2e.load_model()                       # bundled, or a run folder / weights path
    preds = s2e.predict(model, fasta="genome.fa", genes="genes.tsv", dnase="dnase.bw",
                        h3k27ac="h3k27ac.bw", hic="contacts.hic")   # a DataFrame
    elems = s2e.call_elements(model, store="store/")                 # a DataFrame of BED rows

Nothing here reads environment variables or ``seq2exp.toml`` (only the command line does);
messages go through :mod:`logging` (logger ``seq2exp_cli``), and every function that shows
a progress bar takes ``progress=False``.  See docs/api.md.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import pandas as pd

from .models.checkpoint import TrainedModel
from .store.windows import WindowSource

__all__ = ["call_elements", "call_links", "load_model", "open_source", "predict", "preprocess", "train"]


def load_model(path: str | os.PathLike | None = None, device: str | None = None) -> TrainedModel:
    """Load a trained model.

    Parameters
    ----------
    path : str or PathLike, optional
        A run folder of ``seq2exp train`` (its ``best/``), a checkpoint folder or a
        ``*.safetensors`` file; None = the model bundled with seq2exp.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``; None or ``"auto"`` = CUDA when present.

    Returns
    -------
    TrainedModel
        ``(net, config, meta)`` with ``.device``; the weights' sha256 is verified.
    """
    from ._device import resolve_device
    from .models.checkpoint import load_model as load

    return load(path, device=resolve_device(device))


def open_source(model: TrainedModel | None = None, store=None, **inputs: Any) -> WindowSource:
    """Open the inputs of a model: a store, or raw files read on demand.

    Parameters
    ----------
    model : TrainedModel, optional
        Its window width is used for raw files (default 200 kb).
    store : str, PathLike or WindowSource, optional
        A store written by :func:`preprocess`, or an open source.
    **inputs
        Raw files instead of a store: ``fasta``, ``genes``, ``dnase``, ``h3k27ac``,
        ``tracks`` (name -> bigWig), ``hic``, ``targets``, ``blacklist``, and
        ``resolution``/``normalization`` of the Hi-C map
        (:func:`seq2exp_cli.store.source.open_source`).
    """
    from .store.source import open_source as open_windows

    if model is not None and store is None:
        inputs.setdefault("window_bp", model.config.window_bp)
    return open_windows(store, **inputs)


def predict(model: TrainedModel, store=None, *, gene_ids: Sequence[str] | None = None,
            split: str | None = None, batch_size: int = 8, progress: bool = True,
            workers: int = 1, **inputs: Any) -> pd.DataFrame:
    """Predict ``log10(1 + expression)`` of every gene.

    Parameters
    ----------
    model : TrainedModel
        From :func:`load_model`.
    store : str, PathLike or WindowSource, optional
        A store; or give the raw files as keyword arguments (see :func:`open_source`).
    gene_ids : sequence of str, optional
        Only these genes (ids or names).
    split : str, optional
        Only the genes of this split (``train``, ``val``, ``test``).
    batch_size : int
        Genes per forward pass.
    progress : bool
        Show a progress bar on stderr (when it is a terminal).
    workers : int
        Split the genes over this many one-thread processes (by whole chromosomes; the
        output equals one process's).
    **inputs
        Raw input files (``fasta=``, ``genes=``, ``dnase=``, ``h3k27ac=``, ``hic=``, ...).

    Returns
    -------
    pd.DataFrame
        ``gene_id, name, chrom, tss, strand, prediction`` (+ ``target`` when known).
    """
    from .inference.predict import predict_expression

    source = open_source(model, store, **inputs)
    return predict_expression(source, model, indices=source.select(split, gene_ids),
                              batch_size=batch_size, progress=progress, workers=workers)


def call_elements(model: TrainedModel, store=None, *, gene_ids: Sequence[str] | None = None,
                  split: str | None = None, cutoff: float | None = None, min_length: int = 50,
                  merge_gap: int = 100, top_bases: float | None = None, merged: bool = False,
                  bigwig: str | os.PathLike | None = None, batch_size: int = 8,
                  progress: bool = True, workers: int = 1, **inputs: Any) -> pd.DataFrame:
    """Call the regulatory elements of every gene from the model's mask (or element scores).

    Parameters
    ----------
    model : TrainedModel
        A model with a mask or element scores (Seq2Exp, EPInformer, ABC).
    store, gene_ids, split, batch_size, progress, workers, **inputs
        As :func:`predict`.
    cutoff, min_length, merge_gap, top_bases, merged, bigwig
        As ``seq2exp call-elements`` (:func:`seq2exp_cli.inference.elements.gene_elements`).

    Returns
    -------
    pd.DataFrame
        BED6+4 rows (``chrom, start, end, name, score, strand, mean_mask, max_mask,
        gene_id, tss_distance``; 0-based half-open), sorted as ``bedtools sort``; write them
        with :func:`seq2exp_cli.inference.elements.write_elements`.
    """
    from .inference.elements import gene_elements

    source = open_source(model, store, **inputs)
    return gene_elements(source, model, indices=source.select(split, gene_ids), cutoff=cutoff,
                         min_length=min_length, merge_gap=merge_gap, top_fraction=top_bases,
                         merged=merged, bigwig=bigwig, batch_size=batch_size, progress=progress,
                         workers=workers)


def call_links(model: TrainedModel, store=None, *, gene_ids: Sequence[str] | None = None,
               split: str | None = None, cutoff: float | None = None, min_length: int = 50,
               merge_gap: int = 100, min_score: float = 0.0, cell_type: str = "seq2exp",
               batch_size: int = 8, progress: bool = True, candidates=None,
               score: str = "share", **inputs: Any) -> pd.DataFrame:
    """Link every gene's learned elements to it, scored by their share of its enhancer drive.

    Parameters
    ----------
    model : TrainedModel
        A Seq2Exp model with the additive readout (the cpu presets, the bundled model).
    store, gene_ids, split, batch_size, progress, workers, **inputs
        As :func:`predict`.
    cutoff, min_length, merge_gap, min_score, cell_type
        As ``seq2exp call-links`` (:func:`seq2exp_cli.inference.links.gene_links`).
    candidates : path or pd.DataFrame, optional
        Candidate elements to score instead of the mask's runs (``--candidates``): a BED
        or narrowPeak path, or a frame with ``chrom, start, end``.
    score : {"share", "mask-abc", "abc"}
        What a link's Score is (``--score``; :func:`seq2exp_cli.inference.links.gene_links`).

    Returns
    -------
    pd.DataFrame
        One row per element and gene in the ENCODE enhancer-gene layout
        (:data:`seq2exp_cli.io.links.LINK_COLUMNS`); write it with
        :func:`seq2exp_cli.io.links.write_links` or ``write_bedpe``.
    """
    from .inference.links import gene_links

    source = open_source(model, store, **inputs)
    if candidates is not None and not isinstance(candidates, pd.DataFrame):
        from .io.bed import read_bed

        candidates = read_bed(candidates)
    return gene_links(source, model, indices=source.select(split, gene_ids), cutoff=cutoff,
                      min_length=min_length, merge_gap=merge_gap, min_score=min_score,
                      cell_type=cell_type, batch_size=batch_size, progress=progress,
                      candidates=candidates, score=score)


def preprocess(out: str | os.PathLike, *, dnase=None, h3k27ac=None, tracks=None,
               **options: Any):
    """Write a dataset store (``seq2exp preprocess``).

    Parameters
    ----------
    out : str or PathLike
        Store directory to create.
    dnase, h3k27ac, tracks
        bigWig tracks, as to :func:`open_source`.
    **options
        ``fasta``, ``genes``, ``hic``, ``targets``, ``blacklist``, ``resolution``,
        ``normalization``, ``window_bp``, ``overwrite``, ... (:func:`seq2exp_cli.store.preprocess`).

    Returns
    -------
    Path
        The store.
    """
    from .store import preprocess as write_store
    from .store.inputs import track_paths

    return write_store(out, tracks=track_paths(dnase, h3k27ac, tracks), **options)


def train(store: str | os.PathLike, run: str | os.PathLike, model: str = "seq2exp",
          preset: str = "cpu", *, device: str | None = None, resume: bool = False,
          progress: bool = True, **settings: Any):
    """Train a model on a store (``seq2exp train``); return the run folder.

    Parameters
    ----------
    store : str or PathLike
        A store written by :func:`preprocess`.
    run : str or PathLike
        Run folder to create (or continue with ``resume``).
    model, preset : str
        As ``--model`` and ``--preset``.
    device : str, optional
        As :func:`load_model`.
    resume : bool
        Continue the run from its last checkpoint.
    progress : bool
        Show a progress bar on stderr (when it is a terminal).
    **settings
        ``seed``, ``steps``, ``batch_size``, ``variant``, and ``overrides`` (field ->
        value) of :func:`seq2exp_cli.models.build.build_configs`; the store's signals and
        features are used unless given.
    """
    from .models.build import build_configs
    from .store import Store
    from .training.loop import train as fit

    st = Store(store)
    settings.setdefault("signal_names", list(st.signal_names))
    settings.setdefault("n_gene_features", len(st.feature_names))
    model_cfg, train_cfg = build_configs(model, preset, **settings)
    return fit(store, run, model_cfg, train_cfg, device=device, resume=resume,
               show_progress=progress)
