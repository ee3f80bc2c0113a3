"""Backends run a composed check file through some Lean and report what Lean said."""
from __future__ import annotations

from typing import Protocol

from lean_env.soundness.checkfile import CheckFile
from lean_env.soundness.judge import RunOutcome


class Backend(Protocol):
    name: str
    isolation: str

    def run(self, cf: CheckFile, timeout: float) -> RunOutcome: ...

    def close(self) -> None: ...
