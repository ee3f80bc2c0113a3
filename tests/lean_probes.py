"""Asking the real Lean which code it ran: a file declares `probe_k` theorems and marks places
with `#print axioms probe_k`; the probes Lean printed are the marks it read as commands. The
lexer and seam tests compare that with what the project's lexer predicts."""
import os
import re
import subprocess
from pathlib import Path
from typing import Callable

PRINTED = re.compile(r"^'(probe_\d+)' does not depend on any axioms$", re.M)


def mark(k: int) -> str:
    return f"\n#print axioms probe_{k}\n"


def probes(count: int) -> str:
    return "".join(f"theorem probe_{k} : True := True.intro\n" for k in range(count))


def lean_runner(work: Path) -> Callable[[str], set[str]]:
    """run(text) -> the probes whose `#print axioms` Lean ran in that file (skips without Lean)."""
    import pytest

    from lean_env.running.toolchain import ToolchainError, find_toolchain

    try:
        tc = find_toolchain()
    except ToolchainError as exc:
        pytest.skip(str(exc))

    def run(text: str) -> set[str]:
        (work / "Probe.lean").write_bytes(text.encode("utf-8"))
        proc = subprocess.run([str(tc.lean), "Probe.lean"], capture_output=True, timeout=120, cwd=work,
                              env={**os.environ, **tc.env()})
        return set(PRINTED.findall(proc.stdout.decode("utf-8", "replace")))

    return run
