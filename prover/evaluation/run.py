"""The run: pass@k of a policy on a theorem dataset, resumable, with a report.

Layout of an output directory:
    results.jsonl   one search record (search.records.ProblemRecord) per line, appended and
                    flushed as each problem finishes: a killed run loses at most the problems
                    in flight, and a rerun skips every problem already in the file. Samples are
                    seeded per (problem, sample index), so the rerun draws what an unbroken run
                    would have; a line that is not a record is named and only its problem reruns
    run_card.json   what was run: model, sampling, prompt format, dataset variant, Lean and
                    Mathlib versions, checker backend, timing (this and the files below are
                    written atomically: a kill leaves the old version or the new one)
    summary.md      pass@k per split and per problem source (mathd, amc, aime, imo, ...)
    passk.png       the pass@k curve
"""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from lean_env.running.settings import Settings
from prover.evaluation.environment import lean_description, lean_settings_for
from prover.evaluation.errors import EvalError, UnreadableCard
from prover.evaluation.report import write_report
from prover.evaluation.store import (RESULTS, RUN_CARD, ResultsWriter, check_identity, log, read_card, read_records,
                                     record_key, write_atomic)
from search.records import Attempt, ProblemRecord


@dataclass
class EvalResult:
    out_dir: Path
    records: list[ProblemRecord]
    card: dict
    summary: str
    resumed: int = 0  # records found from an earlier run
    new: int = 0


@dataclass
class EvalSpec:
    """What to evaluate; everything the run card's identity is made of."""

    dataset: str
    k: int = 8
    split: Optional[str] = None
    limit: Optional[int] = None
    model: Optional[str] = None
    prompt_format: Optional[str] = None
    temperature: Optional[float] = None  # None: the model's recipe (prover.recipes), else 1.0
    top_p: Optional[float] = None  # None: the recipe's, else 0.95
    max_tokens: Optional[int] = None  # new tokens per sample; None: the recipe's budget (default_max_tokens)
    timeout: Optional[float] = None  # seconds per check; None: PROVER_TIMEOUT, else the profile's, else 60
    seed: Optional[int] = 0
    stop_at_first: bool = True
    round_size: Optional[int] = None
    batch_problems: int = 8
    engine: str = "hf"  # what runs the model: hf | vllm (prover.policies)
    checker_backend: Optional[str] = None
    lean: Optional[str] = None
    workers: Optional[int] = None
    search: str = "best-of-n"  # a search.registry name: k is the sample budget of each
    search_options: dict = field(default_factory=dict)  # the method's knobs (its Config fields)
    trust: str = ""  # what the checker trusts beyond the kernel (lean_env.running.settings.TRUSTABLE): "" or native_decide
    extra: dict = field(default_factory=dict)


STEP_SEARCHES = ("bfs",)  # the methods that ask a model for one tactic at a proof state


def search_options(method: str, raw: dict, stop_at_first: bool = True) -> dict:
    """The method's knobs, typed and checked before anything loads (search.registry). Asking a
    method for a shared setting it lacks (all samples from MCTS, which always stops at the first
    proof) is an error, not a silent default."""
    import dataclasses

    from search import registry

    try:
        options = registry.parse_options(method, raw)
    except ValueError as exc:  # also an unknown method
        raise EvalError(str(exc)) from None
    if not stop_at_first and "stop_at_first" not in {f.name for f in dataclasses.fields(registry.get(method).Config)}:
        raise EvalError(f"--search {method} always stops at a problem's first proof; --all-samples is for best-of-n")
    return options


def make_search(method: str, policy, checker, params, budget: int, fmt: str, round_size: Optional[int] = None,
                stop_at_first: bool = True, batch_problems: Optional[int] = None, on_attempt=None,
                options: Optional[dict] = None):
    """The search behind --search, from search.registry: every method takes a budget of model
    samples and returns the same per-problem records, so one summary compares them. The shared
    settings (round_size, stop_at_first, batch_problems) reach only the methods that have them."""
    from search import registry

    try:
        return registry.build(method, policy, checker, params, budget, fmt, options=options, round_size=round_size,
                              stop_at_first=stop_at_first, batch_problems=batch_problems, on_attempt=on_attempt)
    except (ValueError, TypeError) as exc:
        raise EvalError(str(exc)) from None


def default_max_tokens(rows: Sequence[dict], fmt: str, recipe=None) -> int:
    """Cheap for the logic benchmark (term proofs are short, CPU decoding is slow); a published
    prover's own budget (prover.recipes: DeepSeek-V1.5 2048, Kimina 32K, Goedel-V2 40960), else
    2048 for continuation formats and 8192 for chat formats."""
    from protocol.prompts import get_format

    if rows and all(r.get("profile") == "bundled" for r in rows):
        return 128
    if recipe is not None:
        return recipe.max_new_tokens
    return 2048 if get_format(fmt).kind == "continuation" else 8192


def default_split(dataset: str) -> Optional[str]:
    """The split a run covers when --split is not given: `test` for miniF2F (the split every
    paper reports; valid is for tuning), every row otherwise."""
    import data

    try:
        v = data.variant(dataset)
    except KeyError:
        return None
    return "test" if v.file.startswith("minif2f/") else None


def default_engine() -> tuple[str, str]:
    """(engine, why): vLLM where it is installed and a GPU is present (an hour-long eval takes
    minutes there, and its paged KV cache cannot run out of memory the way a padded HF batch
    can), else transformers."""
    from prover.policies.vllm import has_cuda, vllm_available

    if has_cuda():
        if vllm_available():
            return "vllm", "a GPU and vLLM are present"
        return "hf", ("vLLM is not installed, so transformers generates (much slower; its batch is capped to fit "
                      "GPU memory): `prover setup vllm` installs vLLM, or pass --engine hf to silence this")
    return "hf", "no GPU"


@dataclass
class EvalPlan:
    """Everything a run will do, decided before anything loads (the run and --dry-run share it)."""

    spec: EvalSpec
    rows: list[dict]
    settings: Settings
    fmt: str
    recipe: Any  # prover.recipes.Recipe or None
    params: Any  # prover.policies.SamplingParams
    options: dict
    card: dict


def policy_kwargs(spec: EvalSpec) -> dict:
    """What the engine needs from the model's recipe: vLLM's context (max_model_len) sized to
    the authors' runs, so the KV cache is planned for the lengths the model will write."""
    from prover.recipes import recipe_for

    recipe = recipe_for(spec.model) if spec.model else None
    if spec.engine == "vllm" and recipe is not None:
        return {"max_model_len": recipe.max_model_len}
    return {}


def plan_eval(spec: EvalSpec, settings: Optional[Settings] = None, *, need_lean: bool = True) -> EvalPlan:
    """Resolve the spec: rows, Lean settings, prompt format, sampling. `need_lean=False` (the
    dry run) does not refuse a dataset whose Mathlib is not installed."""
    from lean_env.soundness.limits import LimitError, check_object
    from prover.models import DEFAULT_MODEL, ModelLoadError, default_prompt_format
    from prover.policies import SamplingParams
    from prover.recipes import recipe_for
    from protocol.prompts import default_stop

    try:  # NaN, inf, bools, negative counts: refused before anything loads
        check_object(spec, ("k", "limit", "temperature", "top_p", "max_tokens", "seed", "round_size",
                            "batch_problems", "workers", "timeout"))
    except LimitError as exc:
        raise EvalError(str(exc)) from None
    options = search_options(spec.search, spec.search_options, spec.stop_at_first)
    rows = dataset_rows(spec)
    if not rows:
        raise EvalError(f"{spec.dataset} has no rows" + (f" in split {spec.split!r}" if spec.split else ""))
    try:
        settings = settings or Settings.from_env(lean=spec.lean, workers=spec.workers, timeout=spec.timeout)
    except ValueError as exc:  # PROVER_TIMEOUT=nan and the like (lean_env.soundness.limits)
        raise EvalError(str(exc)) from None
    if need_lean:
        settings = lean_settings_for(rows, settings, spec.dataset)
    settings = _trusting(settings, spec.trust)
    model_name = spec.model or DEFAULT_MODEL
    recipe = recipe_for(model_name)
    try:
        fmt = spec.prompt_format or default_prompt_format(model_name)
    except ModelLoadError as exc:
        raise EvalError(str(exc)) from None
    if fmt == "state" and spec.search not in STEP_SEARCHES:
        raise EvalError(f"{model_name} is a step policy (prompt format `state`): it writes the next tactic for a "
                        f"goal, not a whole proof; search with it: --search {' or --search '.join(STEP_SEARCHES)}")
    if fmt == "state" and spec.search == "bfs":  # a step policy's measured knobs, unless given
        from search.bfs import STEP_POLICY_OPTIONS

        options = {**STEP_POLICY_OPTIONS, **options}
    temperature = spec.temperature if spec.temperature is not None else recipe.temperature if recipe else 1.0
    top_p = spec.top_p if spec.top_p is not None else recipe.top_p if recipe else 0.95
    params = SamplingParams(temperature=temperature, top_p=top_p,
                            max_tokens=spec.max_tokens or default_max_tokens(rows, fmt, recipe), seed=spec.seed,
                            stop=default_stop(fmt))
    card: dict[str, Any] = {
        "model": model_name, "dataset": spec.dataset, "split": spec.split, "limit": spec.limit, "k": spec.k,
        "prompt_format": fmt, "sampling": params.to_dict(), "stop_at_first": spec.stop_at_first,
        "search_method": spec.search,
        "search": {"method": spec.search.replace("-", "_"), "round_size": spec.round_size,
                   "batch_problems": spec.batch_problems, **_jsonable(options)},
        "dataset_variant": dataset_description(spec, rows),
    }
    if recipe is not None:
        card["recipe"] = recipe.name
    if options:
        card["search_options"] = _jsonable(options)
    if settings.trust:  # part of the identity: a resumed run cannot mix trusted and strict verdicts
        card["trust"] = settings.trust
    return EvalPlan(spec, rows, settings, fmt, recipe, params, options, card)


def _jsonable(options: dict) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}


def dataset_rows(spec: EvalSpec) -> list[dict]:
    """The rows to score: the held-out splits unless spec.split names one or `all`
    (prover.evaluation.splits)."""
    import functools

    import data
    from prover.evaluation.splits import select_rows

    skipped: list[str] = []  # unusable rows of the user's file: named and left out, as check does
    try:
        rows = select_rows(functools.partial(data.load, skipped=skipped), spec.dataset, spec.split, spec.limit,
                           spec.model)
        for why in skipped:
            log.warning(f"skipped {why}")
        if skipped:
            log.warning(f"{len(skipped)} unusable row(s) of {spec.dataset} skipped; scoring the other {len(rows)}")
        return rows
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise EvalError(str(exc).strip('"')) from None


def dataset_description(spec: EvalSpec, rows: Sequence[dict]) -> dict:
    import data

    d: dict[str, Any] = {"spec": spec.dataset, "split": spec.split, "limit": spec.limit, "problems": len(rows),
                         "splits": sorted({str(r.get("split", "")) for r in rows})}
    try:
        v = data.variant(spec.dataset)
        d.update(file=v.file, profile=v.profile, description=v.description)
    except KeyError:
        d.update(file=str(spec.dataset))
    versions = sorted({str(r["version"]) for r in rows if r.get("version")})
    if versions:
        d["version"] = versions
    return d


def run_eval(spec: EvalSpec, out_dir: Path, *, policy=None, checker=None, settings: Optional[Settings] = None,
             on_start: Optional[Callable[[int, int], None]] = None,
             on_record: Optional[Callable[[ProblemRecord], None]] = None,
             on_attempt: Optional[Callable[[dict, Attempt], None]] = None) -> EvalResult:
    """Evaluate, appending to out_dir/results.jsonl; problems already there are skipped.
    `policy` / `checker` may be given (tests, benchmarks); else they are built from `spec`."""
    from lean_env.factory import make_checker
    from prover.policies import load_policy

    plan = plan_eval(spec, settings)
    rows, settings, fmt, params, options, card = plan.rows, plan.settings, plan.fmt, plan.params, plan.options, plan.card
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        check_identity(out_dir, card)
    except UnreadableCard:
        if read_records(out_dir / RESULTS):
            raise
        log.warning(f"{out_dir / RUN_CARD} was unreadable and no results are there yet: starting over")
        (out_dir / RUN_CARD).unlink()

    results_path = out_dir / RESULTS
    earlier = read_records(results_path)
    wanted = {record_key(str(r.get("split", "")), str(r.get("name", ""))) for r in rows}
    done = {record_key(r.split, r.name) for r in earlier}
    kept = [r for r in earlier if record_key(r.split, r.name) in wanted]
    todo = [r for r in rows if record_key(str(r.get("split", "")), str(r.get("name", ""))) not in done]
    if on_start:
        on_start(len(rows), len(rows) - len(todo))

    own_policy = policy is None
    own_checker = checker is None
    started = time.time()
    new: list[ProblemRecord] = []
    stats = None
    try:
        if todo:
            if policy is None:
                policy = load_policy(spec.model, backend=spec.engine, **policy_kwargs(spec))
            if checker is None:
                checker = make_checker(spec.checker_backend, settings)
            if not (out_dir / RUN_CARD).exists():  # written once the model loaded: a killed run can resume
                write_atomic(out_dir / RUN_CARD, json.dumps(card, indent=2, ensure_ascii=False) + "\n")
            judged = answer_checker(checker, rows)
            search = make_search(spec.search, policy, judged, params, spec.k, fmt, round_size=spec.round_size,
                                 stop_at_first=spec.stop_at_first, batch_problems=spec.batch_problems,
                                 on_attempt=on_attempt, options=options)
            writer = ResultsWriter(results_path)
            try:
                for record in search.run(todo):
                    writer.write(record)
                    new.append(record)
                    if on_record:
                        on_record(record)
            finally:
                writer.close()
                stats = search.stats
                if judged is not checker:
                    judged.close()
    finally:
        if own_checker and checker is not None:
            checker.close()
        if own_policy and policy is not None:
            policy.close()

    records = kept + new
    card.update(_runtime_card(out_dir, policy, checker, settings, stats, started, len(kept), len(new)))
    write_atomic(out_dir / RUN_CARD, json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    summary = write_report(out_dir, records, card)
    return EvalResult(out_dir, records, card, summary, resumed=len(kept), new=len(new))


def answer_checker(checker, rows: Sequence[dict]):
    """PutnamBench's answer-to-find rows are judged by Lean against the published answer
    (lean_env.answer); other datasets use the checker as it is."""
    if not any(r.get("answer_track") == "find" for r in rows):
        return checker
    from lean_env.answer import AnswerChecker

    return AnswerChecker(checker, rows, owns_inner=False)


def _trusting(settings: Settings, trust: str) -> Settings:
    """The eval's checker trusts exactly what the spec says (not PROVER_TRUST), so the card is true."""
    import dataclasses

    from lean_env.running.settings import normalize_trust

    try:
        trusting = dataclasses.replace(settings, trust=normalize_trust(trust))
    except ValueError as exc:
        raise EvalError(str(exc)) from None
    trusting.explicit = getattr(settings, "explicit", frozenset())  # where the timeout came from (the dry run)
    return trusting


def _runtime_card(out_dir: Path, policy, checker, settings: Settings, stats, started: float, resumed: int,
                  new: int) -> dict:
    """The parts of the run card that describe this invocation (merged over an earlier one's)."""
    old = read_card(out_dir / RUN_CARD) or {}
    timing = dict(old.get("timing") or {"generation_seconds": 0.0, "verification_seconds": 0.0, "wall_seconds": 0.0,
                                       "completions": 0, "tokens": 0, "checks": 0, "invocations": 0})
    if stats is not None:
        for key in ("generation_seconds", "verification_seconds", "wall_seconds", "completions", "tokens", "checks"):
            timing[key] = round(timing.get(key, 0) + getattr(stats, key), 3)
        timing["invocations"] = timing.get("invocations", 0) + 1
    try:
        import torch

        torch_info = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    except ImportError:
        torch_info = {}
    card = {
        "policy": old.get("policy") or {},
        "checker": old.get("checker") or {},
        "lean": old.get("lean") or lean_description(settings),
        "timing": timing,
        "host": {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(), **torch_info},
        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "started": old.get("started") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "problems_from_earlier_runs": resumed,
        "problems_this_run": new,
    }
    if policy is not None:
        card["policy"] = {"backend": getattr(policy, "backend", ""), "resolved_model": getattr(policy, "name", "")}
    if checker is not None:
        card["checker"] = {"backend": checker.backend.name, "isolation": getattr(checker.backend, "isolation", ""),
                           "workers": checker.workers, "timeout_s": checker.settings.timeout}
    return card
