"""Write one ``.hic`` with hictkpy, in a process of its own (run by :func:`.hic.write_hic`).

``import hictkpy`` starts a logger thread that keeps a core busy for the life of the
process (docs/performance.md), and its fork handler can deadlock a forked child.  So the
library never imports it: :func:`~seq2exp_cli.io.hic.write_hic` saves the bins to an
``.npz`` and runs this file as a script, which imports nothing of seq2exp::

    python _hic_writer.py PIXELS.npz OUT.hic [--debug]

``PIXELS.npz`` holds ``chroms`` (names), ``sizes``, ``resolutions``, ``assembly``,
``tmpdir`` and the finest-resolution ``bin1_id``, ``bin2_id`` (genome-wide bin ids) and
``count``.
"""

from __future__ import annotations

import logging
import sys


def main(argv: list[str]) -> None:
    """Write the ``.hic`` the arguments name."""
    import numpy as np

    src, out = argv[0], argv[1]
    import hictkpy

    if "--debug" not in argv:  # hictkpy logs every block it writes at DEBUG level
        logging.getLogger("hictkpy").setLevel(logging.WARNING)
        hictkpy.logging.setLevel(logging.WARNING)
    d = np.load(src, allow_pickle=False)
    sizes = {str(c): int(s) for c, s in zip(d["chroms"], d["sizes"])}
    writer = hictkpy.hic.FileWriter(out, sizes, [int(r) for r in d["resolutions"]],
                                    assembly=str(d["assembly"]), tmpdir=str(d["tmpdir"]))
    writer.add_pixels_from_dict({"bin1_id": d["bin1_id"].tolist(),
                                 "bin2_id": d["bin2_id"].tolist(),
                                 "count": d["count"].astype(np.float64).tolist()})
    writer.finalize()


if __name__ == "__main__":
    main(sys.argv[1:])
