"""Layers import downward only: lean_env <- data <- protocol <- search <- prover.

Every import in the project's packages (also those inside functions) is read with `ast` and
placed in its layer; an import of a higher layer fails here, naming the file and line.
`python tests/test_layers.py` prints the import graph between layers with edge counts.
"""
from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# bottom first; a module may import its own layer and the ones before it
LAYERS = ("lean_env", "data", "protocol", "search", "prover")


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to (None: stdlib or a third-party package)."""
    for name in ("protocol", "lean_env", "data", "search", "prover"):
        if module == name or module.startswith(name + "."):
            return name
    return None


def _file_module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
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
            # `from prover import choices` imports prover.choices
            names = [f"{base}.{a.name}" for a in node.names] if base in ("prover", "search", "data") else [base]
            found += [(node.lineno, name) for name in names]
    return found


def source_files() -> list[Path]:
    return sorted(p for pkg in ("lean_env", "data", "protocol", "search", "prover") for p in (ROOT / pkg).rglob("*.py"))


def edges() -> Counter:
    """(from layer, to layer) -> number of import statements."""
    count: Counter = Counter()
    for path in source_files():
        here = layer_of(_file_module(path))
        for _, module in imports(path):
            there = layer_of(module)
            if there is not None and there != here:
                count[(here, there)] += 1
    return count


def upward_imports(paths: list[Path]) -> list[str]:
    upward = []
    for path in paths:
        here = layer_of(_file_module(path))
        for line, module in imports(path):
            there = layer_of(module)
            if there is not None and LAYERS.index(there) > LAYERS.index(here):
                upward.append(f"{path.relative_to(ROOT)}:{line} ({here}) imports {module} ({there})")
    return upward


def test_every_import_goes_down_a_layer_or_stays():
    upward = upward_imports(source_files())
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_an_upward_import_inside_a_function_is_reported():
    fake = ROOT / "search" / "_layer_probe.py"
    fake.write_text("from protocol.prompts import get_format\n"
                    "def f():\n    from prover.evaluation import run_eval\n", encoding="utf-8")
    try:
        assert upward_imports([fake]) == ["search/_layer_probe.py:3 (search) imports prover.evaluation (prover)"]
    finally:
        fake.unlink()


def test_relative_and_package_imports_are_resolved():
    probe = ROOT / "protocol" / "_probe.py"
    probe.write_text("from . import prompts\nfrom prover.train import sft\nfrom prover import choices\n", encoding="utf-8")
    try:
        assert [m for _, m in imports(probe)] == ["protocol", "prover.train", "prover.choices"]
        assert layer_of("prover.train") == "prover" and layer_of("protocol.prompts") == "protocol"
    finally:
        probe.unlink()


if __name__ == "__main__":
    for (src, dst), n in sorted(edges().items(), key=lambda e: (LAYERS.index(e[0][0]), LAYERS.index(e[0][1]))):
        print(f"{src:16} -> {dst:16} {n:3d} imports")
    sys.exit(0)
