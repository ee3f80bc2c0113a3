"""Why an evaluation cannot run as asked."""
from __future__ import annotations


class EvalError(RuntimeError):
    """The evaluation cannot run as asked; the message says what to do."""


class UnreadableCard(EvalError):
    """run_card.json exists but is not a JSON object (torn by a kill before writes were atomic)."""
