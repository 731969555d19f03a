"""Turn the shared input options into a model and a window source.

Every input not given as a flag is looked up in the environment and the project config
(:mod:`.resolve`), so ``seq2exp call-elements`` works bare in a folder with a
``seq2exp.toml``.  Only the command line does this; the library never reads either.
"""

from __future__ import annotations

from ..errors import Seq2ExpError
from .options import InputOptions, collect_tracks
from .resolve import find_input, resolve_fasta


def load_model(inputs: InputOptions):
    """Load ``--model`` (else ``$SEQ2EXP_MODEL``, ``model =`` in seq2exp.toml, the bundled model).

    Returns
    -------
    TrainedModel
        See :func:`seq2exp_cli.models.checkpoint.load_model`.
    """
    from .._device import resolve_device
    from ..models.checkpoint import load_model as load

    return load(find_input("model", inputs.model), device=resolve_device(inputs.device))


def open_source(inputs: InputOptions, window_bp: int, needed: tuple[str, ...] = ()):
    """Open the :class:`~seq2exp_cli.store.windows.WindowSource` the options name.

    ``needed`` names the model's signals: a needed track that no flag gives is looked up
    in the environment / project config (``SEQ2EXP_H3K27AC``, ``h3k27ac = ...``).
    """
    from ..store.source import open_source as open_windows

    if inputs.store is not None:
        return open_windows(inputs.store)
    genes = find_input("genes", inputs.genes)
    if genes is None:
        raise Seq2ExpError(
            "no inputs: pass --store STORE, or --genes genes.tsv with --dnase/--h3k27ac bigWigs "
            "(or a seq2exp.toml naming them)"
        )
    dnase, h3k27ac, track = inputs.dnase, inputs.h3k27ac, inputs.track
    given = {s.split("=", 1)[0].strip().lower() for s in track or []}
    if dnase is None and "dnase" not in given and ("dnase" in needed or not (h3k27ac or track)):
        dnase = find_input("dnase", None)
    if h3k27ac is None and "h3k27ac" in needed and "h3k27ac" not in given:
        h3k27ac = find_input("h3k27ac", None)
    tracks = collect_tracks(dnase, h3k27ac, track)
    for name in needed:
        if name not in tracks and name != "contact" and name not in ("dnase", "h3k27ac"):
            p = find_input(name, None)
            if p is not None:
                tracks[name] = p
    return open_windows(
        fasta=resolve_fasta(inputs.fasta),
        genes=genes,
        tracks=tracks,
        hic=find_input("hic", inputs.hic),
        targets=find_input("targets", inputs.targets),
        blacklist=find_input("blacklist", inputs.blacklist),
        window_bp=window_bp,
        resolution=inputs.resolution,
        normalization=inputs.normalization,
    )


def model_and_source(inputs: InputOptions):
    """Load the model, then open the inputs it needs: ``(model, source)``."""
    model = load_model(inputs)
    cfg = model.config
    return model, open_source(inputs, cfg.window_bp, tuple(cfg.signal_names))
