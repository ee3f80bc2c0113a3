"""Named Lean environments: a header plus the toolchain that can check it.

`logic` is the project's own prelude (lean_env/prelude/Logic.lean) on the bundled Lean 4.35:
it runs everywhere. Mathlib environments need `prover setup PROFILE` (see lean_env.setup)."""
from __future__ import annotations

import functools
from pathlib import Path

PRELUDE_DIR = Path(__file__).parent / "prelude"


@functools.lru_cache(maxsize=None)
def logic_header() -> str:
    """The logic prelude's text: the header of every task in the `logic` environment."""
    path = PRELUDE_DIR / "Logic.lean"
    text = path.read_text(encoding="utf-8")
    return text if text.endswith("\n") else text + "\n"


def header_for(env: str) -> str:
    if env == "logic":
        return logic_header()
    raise KeyError(f"unknown environment {env!r}: use `logic`, or give the header text itself")
