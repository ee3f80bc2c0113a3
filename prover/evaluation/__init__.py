"""Evaluation: pass@k of a policy on a theorem dataset, resumable, with a report.

One module per job: `environment` (which Lean the rows need), `store` (the directory's files:
results.jsonl, run_card.json, written so a kill loses nothing finished), `report` (summary.md,
passk.png), `run` (the run itself: EvalSpec -> EvalResult). The search comes from
search.registry. The names below are the package's interface.
"""
from prover.evaluation.environment import lean_settings_for
from prover.evaluation.errors import EvalError, UnreadableCard
from prover.evaluation.report import plot_curve, summary_markdown, write_report
from prover.evaluation.run import EvalResult, EvalSpec, default_max_tokens, make_search, run_eval, search_options
from prover.evaluation.store import CURVE, RESULTS, RUN_CARD, SUMMARY, read_records

__all__ = ["CURVE", "RESULTS", "RUN_CARD", "SUMMARY", "EvalError", "EvalResult", "EvalSpec", "UnreadableCard",
           "default_max_tokens", "lean_settings_for", "make_search", "plot_curve", "read_records", "run_eval",
           "search_options", "summary_markdown", "write_report"]
