"""Layers import downward only, and no two modules import each other.

Packages, bottom first: lean_env <- data <- protocol <- search <- prover. Inside lean_env, its
sub-packages are layers too: soundness (text alone) <- running (Lean processes) <- the Checker
and its contract (lean_env's own modules) <- install (verifies with the Checker) <- service.

Every import in the project's packages (also those inside functions) is read with `ast` and
placed in its layer; an import of a higher layer fails here, naming the file and line.
`python tests/test_layers.py` prints the import graphs between layers with edge counts.
"""
from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# bottom first; a module may import its own layer and the ones before it
LAYERS = ("lean_env", "data", "protocol", "search", "prover")
LEAN_ENV_LAYERS = ("lean_env.soundness", "lean_env.running", "lean_env", "lean_env.install", "lean_env.service")
PACKAGES = ("lean_env", "data", "protocol", "search", "prover")


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_of(module: str) -> str | None:
    """The package layer a dotted module name belongs to (None: stdlib or a third-party package)."""
    return next((name for name in LAYERS if _in(module, name)), None)


def lean_env_layer_of(module: str) -> str | None:
    """The lean_env sub-layer of a module (None: outside lean_env); lean_env's own modules are `lean_env`."""
    if not _in(module, "lean_env"):
        return None
    return next((name for name in LEAN_ENV_LAYERS if name != "lean_env" and _in(module, name)), "lean_env")


def _file_module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved;
    `from package import module` names the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _file_module(path) if path.name == "__init__.py" else _file_module(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names]
            found += [(node.lineno, name) for name in dict.fromkeys(names)]
    return found


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def edges(layer=layer_of) -> Counter:
    """(from layer, to layer) -> number of import statements."""
    count: Counter = Counter()
    for path in source_files():
        here = layer(_file_module(path))
        for _, module in imports(path):
            there = layer(module)
            if here is not None and there is not None and there != here:
                count[(here, there)] += 1
    return count


def upward_imports(paths: list[Path], layer=layer_of, order=LAYERS) -> list[str]:
    upward = []
    for path in paths:
        here = layer(_file_module(path))
        for line, module in imports(path):
            there = layer(module)
            if here is not None and there is not None and order.index(there) > order.index(here):
                upward.append(f"{path.relative_to(ROOT)}:{line} ({here}) imports {module} ({there})")
    return upward


def import_cycles(paths: list[Path]) -> list[list[str]]:
    """Groups of modules that reach each other through imports (Tarjan's strongly connected
    components of the module graph, imports inside functions included); a package's
    `__init__` is left out, since importing any submodule runs it."""
    mods = {_file_module(p): p for p in paths if p.name != "__init__.py"}
    graph = {m: sorted({t for _, t in imports(p) if t in mods and t != m}) for m, p in mods.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_every_import_goes_down_a_layer_or_stays():
    upward = upward_imports(source_files())
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_lean_env_sub_packages_import_downward():
    upward = upward_imports(source_files(), lean_env_layer_of, LEAN_ENV_LAYERS)
    assert not upward, "upward imports inside lean_env:\n" + "\n".join(upward)


def test_no_two_modules_import_each_other():
    cycles = import_cycles(source_files())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_an_upward_import_inside_a_function_is_reported():
    fake = ROOT / "search" / "_layer_probe.py"
    fake.write_text("from protocol.prompts import get_format\n"
                    "def f():\n    from prover.evaluation import run_eval\n", encoding="utf-8")
    try:
        assert upward_imports([fake]) == ["search/_layer_probe.py:3 (search) imports prover.evaluation (prover)"]
    finally:
        fake.unlink()


def test_an_upward_import_inside_lean_env_is_reported():
    fake = ROOT / "lean_env" / "soundness" / "_layer_probe.py"
    fake.write_text("from lean_env.soundness import lexer\n"
                    "def f():\n    from lean_env.running.settings import Settings\n", encoding="utf-8")
    try:
        assert upward_imports([fake], lean_env_layer_of, LEAN_ENV_LAYERS) == [
            "lean_env/soundness/_layer_probe.py:3 (lean_env.soundness) imports lean_env.running.settings "
            "(lean_env.running)"]
    finally:
        fake.unlink()


def test_a_cycle_through_a_function_import_is_reported():
    a, b = ROOT / "search" / "_cycle_a.py", ROOT / "search" / "_cycle_b.py"
    a.write_text("from search import _cycle_b\n", encoding="utf-8")
    b.write_text("def f():\n    from search._cycle_a import g\n", encoding="utf-8")
    try:
        assert import_cycles([a, b]) == [["search._cycle_a", "search._cycle_b"]]
    finally:
        a.unlink()
        b.unlink()


def test_relative_and_package_imports_are_resolved():
    probe = ROOT / "prover" / "train" / "_probe.py"
    probe.write_text("from . import config\nfrom ..evaluation import run\nfrom prover import choices\n"
                     "from protocol import prompts\nfrom lean_env.running import Settings\n", encoding="utf-8")
    try:
        assert [m for _, m in imports(probe)] == ["prover.train.config", "prover.evaluation.run", "prover.choices",
                                                  "protocol.prompts", "lean_env.running"]
        assert layer_of("prover.train") == "prover" and layer_of("protocol.prompts") == "protocol"
        assert lean_env_layer_of("lean_env.checker") == "lean_env"
        assert lean_env_layer_of("lean_env.running.backends.cli") == "lean_env.running"
    finally:
        probe.unlink()


def _print_graph(title: str, order: tuple[str, ...], layer) -> None:
    print(title)
    for (src, dst), n in sorted(edges(layer).items(), key=lambda e: (order.index(e[0][0]), order.index(e[0][1]))):
        arrow = "->" if order.index(dst) < order.index(src) else "-> UPWARD"
        print(f"  {src:18} {arrow} {dst:18} {n:3d} imports")


if __name__ == "__main__":
    _print_graph("packages (bottom first: " + " <- ".join(LAYERS) + ")", LAYERS, layer_of)
    _print_graph("lean_env (bottom first: " + " <- ".join(LEAN_ENV_LAYERS) + ")", LEAN_ENV_LAYERS, lean_env_layer_of)
    cycles = import_cycles(source_files())
    print("import cycles: " + ("; ".join(" <-> ".join(c) for c in cycles) if cycles else "none"))
    sys.exit(0)
