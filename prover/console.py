"""The one stderr console of the CLI: verbosity, escaping, and quieting the libraries.

Why one place: stdout carries results only (verdicts, proofs, summaries a script reads), so
every human-facing line goes through `err` on stderr. Text that is not ours (Lean's messages,
file names, exception text, hints such as `pip install -e ".[vllm]"`) is escaped before it
reaches rich, whose markup would otherwise eat anything in square brackets.
"""
from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

QUIET, NORMAL, VERBOSE = 0, 1, 2
_level = NORMAL

err = Console(stderr=True, soft_wrap=True, highlight=False)


def set_verbosity(verbose: bool = False, quiet: bool = False) -> None:
    """--verbose shows the libraries' own logs and bars; --quiet keeps errors and results only."""
    global _level
    _level = VERBOSE if verbose else QUIET if quiet else NORMAL
    if _level < VERBOSE:
        quiet_libraries()


def verbosity() -> int:
    return _level


def is_quiet() -> bool:
    return _level == QUIET


def is_verbose() -> bool:
    return _level == VERBOSE


def esc(text: object) -> str:
    """Text that is not ours, made safe for rich markup."""
    return escape(str(text))


def error(message: object) -> None:
    """One line: `error: ...` (always shown, even with --quiet)."""
    err.print(f"[red]error:[/] {esc(message)}")


def warn(message: object) -> None:
    err.print(f"[yellow]warning:[/] {esc(message)}")


def info(markup: str) -> None:
    """A progress or summary line (our markup; escape foreign parts with esc); hidden by --quiet."""
    if _level >= NORMAL:
        err.print(markup)


def detail(markup: str) -> None:
    """Shown with --verbose only."""
    if _level >= VERBOSE:
        err.print(markup)


def quiet_libraries() -> None:
    """Silence transformers / huggingface_hub / datasets loading bars and advisory warnings.
    Environment variables cover the libraries not imported yet; the calls cover those that are."""
    for key, value in (("TRANSFORMERS_VERBOSITY", "error"), ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"),
                       ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("HF_DATASETS_DISABLE_PROGRESS_BARS", "1"), ("TQDM_DISABLE", "1"),
                       ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", module=r"transformers(\.|$)")
    warnings.filterwarnings("ignore", module=r"torch(\.|$)")
    warnings.filterwarnings("ignore", module=r"trl(\.|$)")
    import sys

    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


class _ConsoleHandler(logging.Handler):
    """A library logger's records as our lines: warnings as `warning: ...`, info as progress."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            warn(text)
        else:
            info(esc(text))


@contextmanager
def logger_to_console(name: str):
    """While a command runs, the named logger's info and warnings reach the user through `err`
    (not Python's bare last-resort handler, which drops info and styles nothing)."""
    logger = logging.getLogger(name)
    handler, level, propagate = _ConsoleHandler(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
