"""Background genome: an order-4 Markov chain of real human sequence, repeats and N gaps.

Sequences are held as ``uint8`` codes (0..3 = A, C, G, T; 4 = N) with a boolean soft-mask
array (``True`` = lower case, i.e. repeat).  The transition table was estimated from hg19
chr22:20-21 Mb (see ``seq2exp_cli/data/README.md``).

Sampling is vectorised over many independent chains (one per ~4 kb stretch), so the Python
loop runs over chain positions, never over the genome: 60 Mb take about a second.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from importlib import resources

import numpy as np

N_CODE = 4
_CHAIN_LEN = 4096
#: upper- and lower-case letters of codes 0..4
UPPER = np.frombuffer(b"ACGTN", dtype=np.uint8)
LOWER = np.frombuffer(b"acgtn", dtype=np.uint8)


def rng_for(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per (seed, component name).

    Changing how one component draws numbers leaves the others' streams untouched.
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))
    )


def load_markov(order: int = 4) -> np.ndarray:
    """Transition probabilities, shape ``(4**order, 4)``; row = context as base-4 number."""
    text = (
        resources.files("seq2exp_cli.data")
        .joinpath(f"hg19_chr22_20-21Mb_markov{order}.tsv")
        .read_text()
    )
    rows = [ln.split("\t") for ln in text.strip().splitlines()[1:]]
    counts = np.array([[float(v) for v in r[1:5]] for r in rows]) + 1.0
    return counts / counts.sum(axis=1, keepdims=True)


_STAT_CACHE: dict[bytes, np.ndarray] = {}


def _stationary(trans: np.ndarray) -> np.ndarray:
    key = trans.tobytes()
    if key not in _STAT_CACHE:
        _STAT_CACHE[key] = stationary_contexts(trans)
    return _STAT_CACHE[key]


def stationary_contexts(trans: np.ndarray, iters: int = 200) -> np.ndarray:
    """Stationary distribution over contexts (power iteration on the context chain)."""
    n = trans.shape[0]
    p = np.full(n, 1.0 / n)
    nxt = (np.arange(n)[:, None] * 4) % n + np.arange(4)[None, :]  # context after each base
    for _ in range(iters):
        q = np.zeros(n)
        np.add.at(q, nxt.ravel(), (p[:, None] * trans).ravel())
        p = q
    return p / p.sum()


def markov_sequence(
    length: int, rng: np.random.Generator, trans: np.ndarray | None = None
) -> np.ndarray:
    """Sample ``length`` bases (codes 0..3) from an order-k Markov chain.

    Parameters
    ----------
    length:
        Number of bases (bp).
    rng:
        Random generator.
    trans:
        Transition probabilities ``(4**k, 4)``; default: the committed order-4 table.

    Returns
    -------
    np.ndarray, shape=(length,), dtype=uint8
    """
    trans = load_markov() if trans is None else trans
    n_ctx = trans.shape[0]
    cum = np.cumsum(trans, axis=1)[:, :3].astype(np.float32)
    block = 256
    chain = min(_CHAIN_LEN, -(-max(length // 16, 1) // block) * block)
    n_chains = max(1, -(-length // chain))
    ctx = rng.choice(n_ctx, size=n_chains, p=_stationary(trans))
    out = np.empty((chain, n_chains), dtype=np.uint8)
    for b0 in range(0, chain, block):
        u = rng.random((block, n_chains), dtype=np.float32)
        for j in range(block):
            c = cum[ctx]
            base = (u[j, :, None] > c).sum(axis=1)
            out[b0 + j] = base
            ctx = (ctx * 4 + base) % n_ctx
    return out.T.reshape(-1)[:length].copy()


@dataclass
class RepeatFamily:
    """A repeat consensus (codes) and whether copies are simple tandem repeats."""

    name: str
    seq: np.ndarray
    divergence: float


def repeat_families(rng: np.random.Generator, trans: np.ndarray) -> list[RepeatFamily]:
    """A handful of interspersed (SINE/LINE-like) and simple (microsatellite) families."""
    fams = []
    for name, length, div in [
        ("SINE_a", 300, 0.1),
        ("SINE_b", 280, 0.15),
        ("MIR_like", 160, 0.25),
        ("LINE_a", 6000, 0.12),
        ("LINE_b", 3000, 0.2),
        ("LTR_a", 500, 0.15),
    ]:
        fams.append(RepeatFamily(name, markov_sequence(length, rng, trans), div))
    for unit in ("CA", "A", "GGAA", "TTTC", "CAG"):
        u = np.array(["ACGT".index(b) for b in unit], dtype=np.uint8)
        fams.append(RepeatFamily(f"({unit})n", np.tile(u, 600 // len(u) + 1)[:600], 0.03))
    return fams


def plant_repeats(
    codes: np.ndarray,
    masked: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    trans: np.ndarray,
) -> int:
    """Overwrite ~``fraction`` of ``codes`` with diverged repeat copies, soft-masking them.

    Copies are fragments of a family consensus (LINE copies are 5'-truncated), reverse
    complemented half the time, with random substitutions at the family's divergence.
    Modifies ``codes`` and ``masked`` in place; returns the number of copies.
    """
    length = len(codes)
    fams = repeat_families(rng, trans)
    cons = np.concatenate([f.seq for f in fams])
    offs = np.cumsum([0] + [len(f.seq) for f in fams])[:-1]
    flen = np.array([len(f.seq) for f in fams])
    fdiv = np.array([f.divergence for f in fams])
    weights = np.array([0.3, 0.15, 0.1, 0.15, 0.1, 0.08] + [0.024] * 5)
    mean_len = float((weights / weights.sum() * np.minimum(flen, 900)).sum())
    n = int(fraction * length / mean_len)
    if n == 0 or length < 2000:
        return 0
    fam = rng.choice(len(fams), size=n, p=weights / weights.sum())
    simple = flen[fam] == 600
    frag = np.where(
        simple,
        rng.integers(20, 200, n),
        np.minimum(flen[fam], rng.lognormal(np.log(500), 0.9, n).astype(np.int64) + 50),
    )
    frag = np.minimum(frag, flen[fam])
    src0 = offs[fam] + flen[fam] - frag  # 3' end kept (truncated copies)
    dst0 = rng.integers(0, length - frag.max() - 1, n)
    rc = rng.random(n) < 0.5
    idx_copy = np.repeat(np.arange(n), frag)
    within = np.arange(len(idx_copy)) - np.repeat(np.cumsum(frag) - frag, frag)
    src = src0[idx_copy] + np.where(rc[idx_copy], frag[idx_copy] - 1 - within, within)
    bases = cons[src]
    bases = np.where(rc[idx_copy], 3 - bases, bases).astype(np.uint8)
    mut = rng.random(len(bases)) < fdiv[fam][idx_copy]
    bases[mut] = rng.integers(0, 4, int(mut.sum()), dtype=np.uint8)
    dst = dst0[idx_copy] + within
    codes[dst] = bases
    masked[dst] = True
    return n


def to_text(codes: np.ndarray, masked: np.ndarray) -> str:
    """Codes and soft mask as a FASTA sequence string (``acgt`` = masked, ``N`` = gap)."""
    letters = np.where(masked, LOWER[codes], UPPER[codes])
    letters[codes == N_CODE] = ord("N")
    return letters.astype(np.uint8).tobytes().decode("ascii")
