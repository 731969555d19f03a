"""The workflow's own small jobs, as one command: ``python -m seq2exp_cli.cli.workflow_jobs``.

Snakemake runs a rule's ``run:`` block in a fresh Snakemake process that parses the whole
workflow again (seconds per job); these shell commands start in about a second and import
neither torch nor Snakemake.  It is a command line of :mod:`seq2exp_cli.workflow`, so it
lives in ``cli/``.

Subcommands::

    gather-tsv OUT IN...          join shard TSVs (seq2exp_cli.shard.gather_tsv)
    gather-bed OUT IN...          join shard BEDs (gather_bed)
    gather-bigwig OUT IN...       join shard mask bigWigs (gather_bigwig)
    top-gene PREDICTIONS          print the gene_id of the highest prediction
    train-into STORE OUT LOG THREADS -- CMD...   train resumably (commands.train_into)
    summary TSV MD SPEC_JSON      the cross-sample summary (summary.summarize)

Errors a user can fix are one line on stderr with exit code 2, as in ``seq2exp``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ..errors import Seq2ExpError


def main(argv: list[str] | None = None) -> int:
    """Run one job; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    name, rest = args[0], args[1:]
    try:
        if name in ("gather-tsv", "gather-bed", "gather-bigwig"):
            from .. import shard

            fn = {"gather-tsv": shard.gather_tsv, "gather-bed": shard.gather_bed,
                  "gather-bigwig": shard.gather_bigwig}[name]
            fn(rest[1:], rest[0])
        elif name == "top-gene":
            from ..workflow.commands import top_gene

            print(top_gene(rest[0]))
        elif name == "train-into":
            from ..workflow.commands import train_into

            sep = rest.index("--")
            store, out, log, threads = rest[:sep]
            train_into(rest[sep + 1:], store, out, log, int(threads))
        elif name == "summary":
            from ..workflow.summary import SampleResults, summarize

            tsv, md, spec = rest
            summarize([SampleResults(**r) for r in json.loads(spec)], tsv, md)
        else:
            print(f"seq2exp workflow job: unknown job '{name}'", file=sys.stderr)
            return 2
    except Seq2ExpError as exc:
        print(f"seq2exp workflow job: error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"seq2exp workflow job: {name}: the command exited with {exc.returncode}; its "
              "log says why", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
