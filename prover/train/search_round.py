"""One search over a statement pool with an in-memory model, as a resumable eval.

Expert iteration, DPO and KTO get their data the same way: the current model searches (any
`--search` method: best-of-n, mcts, bfs, repair) over some statements, Lean judges every
attempt, and the eval records (results.jsonl) are the data store. Running it through
`prover.evaluation.run_eval` makes the search itself resumable: a killed round skips the
statements already in results.jsonl.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from prover.train.config import TrainConfig

POOL = "pool.jsonl"


@dataclass
class SearchSettings:
    """How a stage searches for its data (a stage's options dataclass includes these keys)."""

    search: str = "best-of-n"  # any `prover eval --search` method
    k: int = 8  # sample budget per statement
    search_temperature: float = 1.0
    search_top_p: float = 1.0
    search_max_tokens: int = 0  # 0: eval's default for the dataset
    stop_at_first: bool = False  # keep searching after the first proof (more distinct proofs, more failures)
    search_seed: int = 0
    search_options: dict = field(default_factory=dict)  # the method's knobs, as `prover eval --search-option`s

    def check(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1 (samples per statement), got {self.k}")


def write_pool(rows: list[dict], path: Path) -> Path:
    """The statements to search as a jsonl file eval reads. A row whose header is its named
    environment's (the logic prelude) is written without it: the loader puts it back."""
    from lean_env.running.environments import header_for

    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for row in rows:
        out = dict(row)
        if out.get("env") and out.get("header") == header_for(out["env"]):
            out.pop("header", None)
            out.pop("prompt_header", None)
        lines.append(json.dumps(out, ensure_ascii=False))
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def search_pool(cfg: TrainConfig, opts: SearchSettings, model: Any, tokenizer: Any, rows: list[dict],
                out_dir: Path, label: str, checker: Any = None) -> Any:
    """Search `rows` with `model`; returns prover.evaluation's EvalResult (records, card).
    `label` names the model in the run card: the same label resumes the same eval."""
    from prover.evaluation import EvalSpec, run_eval
    from prover.policies.hf import HFPolicy

    pool = out_dir / POOL
    if not pool.exists():  # a resumed round searches the pool it wrote, not a recomputed one
        write_pool(rows, pool)
    spec = EvalSpec(dataset=str(pool), split="all", k=opts.k, model=label, prompt_format=cfg.prompt_format,
                    temperature=opts.search_temperature, top_p=opts.search_top_p,
                    max_tokens=opts.search_max_tokens or None, seed=opts.search_seed,
                    stop_at_first=opts.stop_at_first, search=opts.search, checker_backend=cfg.checker_backend,
                    search_options=dict(opts.search_options))
    was_training, side = model.training, tokenizer.padding_side
    model.eval()
    try:
        return run_eval(spec, out_dir, policy=HFPolicy(model, tokenizer, name=label), checker=checker)
    finally:
        tokenizer.padding_side = side
        if was_training:
            model.train()


def eval_checks(result: Any) -> int:
    """Lean checks an eval spent, over all its invocations (from its run card)."""
    return int((result.card.get("timing") or {}).get("checks", 0))


def eval_timing(result: Any) -> tuple[float, float]:
    """(generation seconds, verification seconds) of an eval's wall time, over all its
    invocations: verification is the wall time not spent generating (Lean, mostly). The card's
    own verification_seconds sums per-check Lean time, which exceeds wall time when checks
    run in parallel."""
    timing = result.card.get("timing") or {}
    gen = float(timing.get("generation_seconds", 0.0))
    return gen, max(0.0, float(timing.get("wall_seconds", 0.0)) - gen)


def read_results(path: str | Path) -> list:
    """ProblemRecords from an eval directory or its results.jsonl."""
    from prover.evaluation import RESULTS, read_records

    path = Path(path)
    if path.is_dir():
        path = path / RESULTS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no eval results there; run `prover eval` first or point at its --out")
    return read_records(path)


def ensure_checker(cfg: TrainConfig, checker: Optional[Any]) -> tuple[Any, bool]:
    from prover.train.models import config_checker

    return (checker, False) if checker is not None else (config_checker(cfg), True)
