"""The package's layering, read from its source: every import (module level or inside a
function) of every module of ``seq2exp_cli``, as an edge of a graph.

- nothing outside ``cli/`` (and ``__main__``) imports ``cli/``;
- the graph has no circle;
- each layer imports only the layers below it (:data:`LAYERS`);
- library code does not ``print`` (it logs), and only ``cli/`` reads the environment's
  ``SEQ2EXP_*`` variables or seq2exp.toml.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "seq2exp_cli"

#: bottom to top; a module may import its own layer's modules and those of lower layers
LAYERS = [
    ("errors", "_device", "_pools", "progress", "colors"),
    ("io",),
    ("contacts", "shard"),
    ("store", "simulate"),
    ("models",),
    ("inference",),
    ("training",),
    ("plot",),
    ("evaluation",),
    ("api",),
    ("workflow",),
    ("cli", "__main__"),
]


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(PKG.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (p, is_pkg)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in its code)."""
    mods = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, (path, is_pkg) in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                if node.level:
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                # ``from . import x`` imports the module x, not only the package
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target
                           for a in node.names]
            for t in targets:
                if t in mods and t != name:
                    graph[name].add(t)
    return graph


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if not top:  # the package itself: __version__ and a lazy public face (no import edges)
        return 0
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: not in any layer of LAYERS; add it")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack, on, out = [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read():
    g = import_graph()
    assert "seq2exp_cli.inference.forward" in g["seq2exp_cli.training.loop"]
    assert "seq2exp_cli.cli.options" in g["seq2exp_cli.cli.predict"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_library_module_imports_the_cli():
    bad = [f"{m} -> {t}" for m, ts in import_graph().items() for t in ts
           if t.startswith("seq2exp_cli.cli") and _layer(m) < _layer("seq2exp_cli.cli")]
    assert not bad, "library modules import cli/:\n" + "\n".join(sorted(bad))


def test_no_import_circle():
    assert _cycles(import_graph()) == []


def test_layers_import_downwards():
    up = [f"{m} -> {t}" for m, ts in import_graph().items() for t in ts
          if _layer(t) > _layer(m)]
    assert not up, "imports of a higher layer:\n" + "\n".join(sorted(up))


def _library_files():
    return [p for p in PKG.rglob("*.py") if "cli" not in p.relative_to(PKG).parts[:1]
            and p.name != "__main__.py"]


def test_library_code_logs_instead_of_printing():
    calls = []
    for p in _library_files():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                calls.append(f"{p.relative_to(PKG)}:{node.lineno}")
    assert not calls, calls


def _settings_reads(tree: ast.AST) -> list[int]:
    """Lines that read a ``SEQ2EXP_*`` environment variable or parse TOML."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if "tomllib" in names:
                lines.append(node.lineno)
        key = None
        if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "os.environ.get", "os.getenv", "environ.get", "getenv"):
            key = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
            key = node.slice
        if key is not None and not (isinstance(key, ast.Constant)
                                    and not str(key.value).startswith("SEQ2EXP")):
            lines.append(node.lineno)  # a SEQ2EXP_ key, or one built at run time
    return lines


def test_the_settings_check_sees_reads():
    code = 'import os, tomllib\nos.environ.get("SEQ2EXP_FASTA")\nos.environ[f"SEQ2EXP_{n}"]\n'
    assert _settings_reads(ast.parse(code)) == [1, 2, 3]
    assert _settings_reads(ast.parse('import os\nos.environ.get("WORLD_SIZE", "1")\n')) == []


def test_only_the_cli_reads_seq2exp_settings():
    hits = [f"{p.relative_to(PKG)}:{n}" for p in _library_files()
            for n in _settings_reads(ast.parse(p.read_text()))]
    assert not hits, hits
    cli = [n for p in (PKG / "cli").glob("*.py") for n in _settings_reads(ast.parse(p.read_text()))]
    assert cli  # where they are read
