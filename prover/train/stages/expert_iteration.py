"""`prover train expert-iteration`: search with the current model, keep what Lean verifies,
fine-tune on it, repeat (Polu & Sutskever 2020, "Generative Language Modeling for Automated
Theorem Proving"; the workhorse of DeepSeek-Prover-V1.5, Goedel-Prover and BFS-Prover).

Round r (1..rounds):
1. search: the current model searches the statements not yet solved (any `--search` method,
   k samples each) as a resumable eval in output_dir/round-r/search (results.jsonl is the
   data store; prover.train.search_round);
2. keep: every Lean-verified attempt of every round so far (or of this round only,
   `accumulate: false`), deduplicated per statement, optionally shortest first and at most
   `proofs_per_statement` each (prover.train.proof_data.verified_rows; a step policy, prompt
   format `state`, gets the (goal -> next tactic) rows along each proof instead, read again from
   the Lean server: verified_step_rows); unsolved statements carry forward to the next round;
3. SFT: the in-memory model that just searched is fine-tuned on them (plus `replay_rows` rows
   drawn from the `replay` file, when set) (the sft stage, trl
   SFTConfig keys of this file apply to every round) into output_dir/round-r/model.

Resumable after a kill at any point: a round's search resumes from its results.jsonl, its SFT
from the latest checkpoint in round-r/model, and output_dir/expert_iteration.json records the
rounds finished (a finished round is not redone; the next starts from its saved model). The
final model is also saved in output_dir itself.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from prover.train.config import TrainConfig
from prover.train.registry import Stage
from prover.train.runner import RunResult
from prover.train.search_round import SearchSettings
from prover.train.stages.sft import default_sft_args

STATE = "expert_iteration.json"


@dataclass
class ExpertIterationOptions(SearchSettings):
    rounds: int = 2
    accumulate: bool = True  # train each round on the proofs of every round so far (false: this round's only)
    shortest_first: bool = True  # per statement, shorter verified proofs first
    proofs_per_statement: int = 1  # keep at most this many distinct proofs per statement (0: all)
    include_reference: bool = False  # also train on the dataset's reference proofs (SFT data mixed in)
    # Replay: each round also trains on `replay_rows` rows drawn (seeded by the round) from this
    # prompt/completion jsonl, e.g. the SFT rows the model started from, so a round's few new
    # proofs do not become the model's whole world (0 rows / "": none)
    replay: str = ""
    replay_rows: int = 0

    def check(self) -> None:
        super().check()
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {self.rounds}")


def read_state(out: Path) -> dict:
    path = out / STATE
    if not path.is_file():
        return {"rounds_done": 0, "rounds": []}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise ValueError(f"{path} is not valid JSON; delete it to redo the rounds (each round's search and SFT "
                         "resume from their own files)") from None


def write_state(out: Path, state: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (STATE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / STATE)


def _replay_source(opts: "ExpertIterationOptions") -> list[dict]:
    if not opts.replay or not opts.replay_rows:
        return []
    path = Path(opts.replay)
    if not path.is_file():
        raise FileNotFoundError(f"replay: {path} is not a file (a prompt/completion jsonl, e.g. the SFT rows)")
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def _replay_draw(source: list[dict], n: int, round_: int) -> list[dict]:
    import random

    if not source or n <= 0:
        return []
    return random.Random(f"replay:{round_}").sample(source, min(n, len(source)))


def round_config(cfg: TrainConfig, out_dir: Path) -> TrainConfig:
    """The SFT stage's config for one round: the same options, another output_dir."""
    return dataclasses.replace(cfg, stage="sft", options=None, trl={**cfg.trl, "output_dir": str(out_dir)})


def run_expert_iteration(cfg: TrainConfig, resume: Optional[str | bool] = None, model: Any = None,
                         tokenizer: Any = None, log: Callable[[str], None] = print) -> RunResult:
    """Run the rounds (see module docstring). `resume`: any value resumes; the rounds always
    resume from their own files, so it only matters for the SFT of an unfinished round."""
    from transformers.trainer_utils import get_last_checkpoint

    from prover.train.data import limit, training_rows
    from prover.train.proof_data import rows_by_key, unsolved, verified_rows, verified_step_rows
    from prover.train.runner import starting_model, write_card
    from prover.train.search_round import ensure_checker, eval_checks, eval_timing, search_pool
    from prover.train.stages.sft import run_sft

    opts: ExpertIterationOptions = cfg.options
    out = Path(cfg.output_dir)
    state = read_state(out)
    done = int(state.get("rounds_done", 0))
    if done:  # continue from the last finished round's model (not the start)
        model, tokenizer = starting_model(dataclasses.replace(cfg, model=str(out / f"round-{done}" / "model")))
    else:
        model, tokenizer = starting_model(cfg, model, tokenizer)
    pool = limit(training_rows(cfg, cfg.split), cfg.max_rows)
    if not pool:
        raise ValueError(f"no statements in split {cfg.split!r} of {cfg.dataset!r}")
    by_key = rows_by_key(pool)
    reference = [r for r in pool if r.get("proof") is not None] if opts.include_reference else []
    replay = _replay_source(opts)
    step_policy = cfg.prompt_format == "state"  # a (goal -> tactic) policy, not a whole-proof one

    checker, own = ensure_checker(cfg, None)
    started = time.monotonic()
    all_records: list = []
    checks = 0
    gen = ver = 0.0
    step = 0
    result = None
    try:
        for r in range(1, opts.rounds + 1):
            round_dir = out / f"round-{r}"
            todo = unsolved(pool, all_records)
            search = None
            if todo or (round_dir / "search" / "pool.jsonl").is_file():
                search = search_pool(cfg, opts, model, tokenizer, todo, round_dir / "search",
                                     f"expert-iteration:{cfg.model}:round-{r}", checker=checker)
            records = search.records if search is not None else []
            if search is not None:
                checks += eval_checks(search)
                g, v = eval_timing(search)
                gen, ver = gen + g, ver + v
            all_records += records
            data_from = all_records if opts.accumulate else records
            if step_policy:  # it trains on the states along its proofs
                rows = verified_step_rows(data_from, by_key, checker, cfg.prompt_format, opts.shortest_first,
                                          opts.proofs_per_statement)
            else:
                rows = verified_rows(data_from, by_key, cfg, tokenizer, opts.shortest_first,
                                     opts.proofs_per_statement)
            solved = sum(rec.solved for rec in all_records)
            if r <= done:  # finished before a kill: its model is what we loaded (or will load)
                continue
            log(f"expert-iteration round {r}/{opts.rounds}: searched {len(records)} statements, "
                f"{sum(rec.solved for rec in records)} newly solved ({solved}/{len(pool)} in all), "
                f"{len(rows)} verified {'steps' if step_policy else 'proofs'} to train on")
            sft_rows = rows + reference + (_replay_draw(replay, opts.replay_rows, r) if rows else [])
            info = {"round": r, "searched": len(records), "newly_solved": sum(rec.solved for rec in records),
                    "solved": solved, "proofs": len(rows), "lean_checks": checks}
            if sft_rows:
                model_dir = round_dir / "model"
                ckpt = get_last_checkpoint(str(model_dir)) if model_dir.is_dir() else None
                result = run_sft(round_config(cfg, model_dir), resume=ckpt, model=model, tokenizer=tokenizer,
                                 log=log, rows=sft_rows)
                model = result.model
                step += result.global_step
                info["sft_steps"] = result.global_step
            else:  # nothing verified: the model is unchanged; save it so the next round can start from it
                log(f"expert-iteration round {r}: no verified proof to train on; the model is unchanged")
                (round_dir / "model").mkdir(parents=True, exist_ok=True)
                model.save_pretrained(round_dir / "model")
                tokenizer.save_pretrained(round_dir / "model")
            state = {"rounds_done": r, "rounds": [*state.get("rounds", [])[: r - 1], info]}
            write_state(out, state)
    finally:
        if own:
            checker.close()
    seconds = time.monotonic() - started
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_card(str(out), cfg)
    return RunResult(output_dir=str(out), global_step=step, train_seconds=seconds, generation_seconds=gen,
                     verification_seconds=ver, trainer=result.trainer if result else None, model=model,
                     tokenizer=tokenizer, lean_checks=checks,
                     extra={"rounds": state.get("rounds", []),
                            "solved": sum(rec.solved for rec in all_records), "pool": len(pool)})


STAGE = Stage("expert-iteration", "Expert iteration: search with the current model, keep Lean-verified proofs, "
              "SFT on them, repeat (resumable).", "SFTConfig", run_expert_iteration, options=ExpertIterationOptions,
              resumes_itself=True, defaults=default_sft_args)
