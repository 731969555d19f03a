"""Evaluation.

Expression metrics per split and the comparison of learned elements with peak calls (MACS3),
planted truth and CRISPRi enhancer–gene links.

- :mod:`.intervals`: interval algebra, bp / interval overlap metrics, AUPRC.
- :mod:`.peaks`: MACS3 ``bdgpeakcall`` on a DNase bigWig (the interval readers are in
  :mod:`seq2exp_cli.io`).
- :mod:`.links`: CRISPRi link scores (learned, ABC, distance) and their AUPRC.
- :mod:`.report`: long-format reports (TSV + Markdown),
  :func:`evaluate_predictions`.
- :mod:`.compare`: ``seq2exp compare-peaks`` end to end.
"""

from .compare import compare_peaks, compare_peaks_files
from .intervals import average_precision, pr_curve
from .report import Report, evaluate_predictions

__all__ = ["Report", "average_precision", "compare_peaks", "compare_peaks_files",
           "evaluate_predictions", "pr_curve"]
