"""The workflow's config.yaml: every key, its default, and the checks.

:data:`DEFAULTS` is the whole configuration; ``config.yaml`` (written by ``seq2exp workflow
init``) lists the same keys with comments.  :func:`load_config` fills in what a config
leaves out and rejects what it cannot use, as one line naming the key and the fix.
"""

from __future__ import annotations

import copy
import shlex
from typing import Any

from ..errors import InputError

#: Every key of config.yaml with its default.
DEFAULTS: dict[str, Any] = {
    "samples": "samples.tsv",
    "results": "results",
    "shards": 1,
    "device": "cpu",
    "call_links": "auto",
    "preprocess_args": "",
    "train": {"preset": "cpu-hard", "steps": None, "args": "", "threads_per_gpu": 4},
    "call_elements_args": "",
    "call_links_args": "",
    "compare_peaks_split": "all",
    "plot_gene": "top",
}


def _where(key: str, source: str) -> str:
    return f"{source}: {key}"


def load_config(config: dict[str, Any] | None, source: str = "config.yaml") -> dict[str, Any]:
    """``config`` merged over :data:`DEFAULTS` and checked.

    Parameters
    ----------
    config:
        The parsed config.yaml (Snakemake's ``config``), possibly empty.
    source:
        Name used in error messages.

    Returns
    -------
    dict with every key of :data:`DEFAULTS`; ``call_links`` becomes ``"auto"``, True or
    False.

    Raises
    ------
    InputError
        An unknown key, or a value of the wrong kind.
    """
    cfg = copy.deepcopy(DEFAULTS)
    for key, value in (config or {}).items():
        if key not in DEFAULTS:
            raise InputError(f"{source}: unknown key '{key}'; the keys are "
                             f"{', '.join(DEFAULTS)}")
        if isinstance(DEFAULTS[key], dict):
            if not isinstance(value, dict):
                raise InputError(f"{_where(key, source)}: expected a mapping of "
                                 f"{', '.join(DEFAULTS[key])}")
            for sub, v in value.items():
                if sub not in DEFAULTS[key]:
                    raise InputError(f"{source}: unknown key '{key}.{sub}'; the keys of {key} "
                                     f"are {', '.join(DEFAULTS[key])}")
                cfg[key][sub] = v
        else:
            cfg[key] = value
    shards = cfg["shards"]
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise InputError(f"{_where('shards', source)}: '{shards}' is not a whole number >= 1; "
                         "give 1 (no scatter) or the number of jobs per sample")
    links = cfg["call_links"]
    if isinstance(links, str) and links.lower() in ("auto", "true", "false", "yes", "no"):
        links = {"auto": "auto", "true": True, "yes": True}.get(links.lower(), False)
    if links not in ("auto", True, False):
        raise InputError(f"{_where('call_links', source)}: '{cfg['call_links']}' is not auto, "
                         "true or false")
    cfg["call_links"] = links
    steps = cfg["train"]["steps"]
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise InputError(f"{_where('train.steps', source)}: '{steps}' is not a whole number "
                         ">= 1; leave it null for the preset's")
    tpg = cfg["train"]["threads_per_gpu"]
    if isinstance(tpg, bool) or not isinstance(tpg, int) or tpg < 1:
        raise InputError(f"{_where('train.threads_per_gpu', source)}: '{tpg}' is not a whole "
                         "number >= 1")
    for key in ("preprocess_args", "call_elements_args", "call_links_args"):
        _split_args(cfg[key], _where(key, source))
    _split_args(cfg["train"]["args"], _where("train.args", source))
    if str(cfg["device"]).split(":")[0] not in ("auto", "cpu", "cuda"):
        raise InputError(f"{_where('device', source)}: '{cfg['device']}' is not auto, cpu, cuda "
                         "or cuda:N")
    return cfg


def _split_args(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError as exc:
        raise InputError(f"{where}: cannot split '{value}' into options ({exc}); check the "
                         "quotes") from None


def args_of(cfg: dict[str, Any], key: str) -> list[str]:
    """Extra command-line options of ``key`` (``"train.args"`` for nested keys), split."""
    if "." in key:
        a, b = key.split(".", 1)
        return _split_args(cfg[a][b], key)
    return _split_args(cfg[key], key)
