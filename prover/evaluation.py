"""Evaluation: pass@k of a policy on a theorem dataset, resumable, with a report.

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

import io
import json
import logging
import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from lean_env.settings import Settings, profile_dir
from search.metrics import mean_pass_at_k, pass_at_k_curve
from search.records import Attempt, ProblemRecord

RESULTS = "results.jsonl"
RUN_CARD = "run_card.json"
SUMMARY = "summary.md"
CURVE = "passk.png"

# Fields of the run card that must match for a rerun to resume into the same directory.
IDENTITY = ("model", "dataset", "split", "limit", "k", "prompt_format", "sampling", "stop_at_first", "search_method")
SEARCH_METHODS = ("best-of-n", "mcts", "bfs", "repair")

# MiniF2F problem families, from the name prefix (order matters: longest first).
_SOURCES = (("mathd_", "mathd"), ("amc", "amc"), ("aime", "aime"), ("imo", "imo"), ("induction", "induction"),
            ("algebra", "algebra"), ("numbertheory", "numbertheory"))


class EvalError(RuntimeError):
    """The evaluation cannot run as asked; the message says what to do."""


class UnreadableCard(EvalError):
    """run_card.json exists but is not a JSON object (torn by a kill before writes were atomic)."""


def source_category(name: str) -> str:
    """mathd / amc / aime / imo / induction / algebra / numbertheory for MiniF2F names;
    logic_l1..3 for the logic benchmark; else the name's first word."""
    for prefix, cat in _SOURCES:
        if name.startswith(prefix):
            return cat
    m = re.match(r"(logic_l\d+)_", name)
    if m:
        return m.group(1)
    return name.split("_", 1)[0] or "other"


def ks_to_report(k: int) -> list[int]:
    """1, 2, 4, ... up to k, and k itself."""
    ks, x = [], 1
    while x < k:
        ks.append(x)
        x *= 2
    return ks + [k]


# -- the Lean environment a dataset needs ----------------------------------------------------
def _needs_outside_lean(row: dict) -> bool:
    """Whether the row imports something the bundled environment lacks (Mathlib)."""
    from lean_env.checkfile import header_imports
    from lean_env.environments import LOGIC_MODULE

    if row.get("profile") not in (None, "", "bundled"):
        return True
    return bool(header_imports(row.get("header") or "") - {LOGIC_MODULE})


def profile_installed(name: str, settings: Settings) -> bool:
    """Whether `prover setup NAME` finished (it writes settings.json last)."""
    return (profile_dir(settings.cache, name) / "settings.json").exists()


def lean_settings_for(rows: Sequence[dict], settings: Settings, dataset: str = "") -> Settings:
    """Settings whose Lean can check these rows. Rows with `import`s (MiniF2F: Mathlib) need a
    Lean other than the bundled one: the user's (--lean / PROVER_LEAN / PROVER_PROFILE) or an
    installed profile for the rows' variant. Otherwise refuse now, with the fix, rather than
    fail every check with "unknown package Mathlib"."""
    needs_mathlib = any(_needs_outside_lean(r) for r in rows)
    if not needs_mathlib or settings.lean or settings.profile:
        return settings
    profiles = sorted({r.get("profile") for r in rows if r.get("profile") not in (None, "", "bundled")})
    for p in profiles:
        if profile_installed(p, settings):
            return Settings.from_env(profile=p, timeout=settings.timeout, workers=settings.explicit_workers())
    want = profiles[0] if profiles else "minif2f-v4.24"
    raise EvalError(
        f"{dataset or 'this dataset'} imports Mathlib, which the bundled Lean (logic prelude only) does not have, "
        f"and no Mathlib environment is installed. Fix: on a machine with internet run `prover setup {want}` "
        f"(it installs Lean + Mathlib + the REPL for this dataset's statements), then rerun; the installed profile "
        f"is found by itself, or select it with PROVER_PROFILE={want}, or point --lean / PROVER_LEAN at a Lean "
        f"whose LEAN_PATH has Mathlib.")


def lean_description(settings: Settings) -> dict:
    """Lean and Mathlib versions for the run card."""
    out: dict[str, Any] = {"profile": settings.profile or None}
    try:
        from lean_env.toolchain import find_toolchain

        tc = find_toolchain(settings, build=False)
        out.update(lean=tc.version, lean_path=str(tc.lean), bundled=tc.bundled)
    except Exception as exc:  # the card still gets written; say why the version is missing
        out.update(lean=None, lean_error=str(exc))
    if settings.profile:
        try:
            from lean_env.setup import get_profile

            p = get_profile(settings.profile)
            out.update(mathlib=p.mathlib_rev, toolchain=p.toolchain, repl=p.repl_rev)
        except Exception:
            pass
    else:
        out["mathlib"] = None
    return out


# -- files -----------------------------------------------------------------------------------
log = logging.getLogger("prover.eval")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file so that a kill at any moment leaves the old file or the new one, never
    a torn one: a temporary file in the same directory, fsynced, then renamed over the target."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_card(path: Path) -> Optional[dict]:
    """The run card, or None when there is none. A card that is not JSON (an empty file left by a
    kill during a write, before writes were atomic) raises EvalError with the fix."""
    if not path.exists():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        card = exc
    if not isinstance(card, dict):
        raise UnreadableCard(f"{path} is unreadable ({'empty' if not path.stat().st_size else 'not a JSON object'}: "
                        f"an earlier run was killed while writing it), so this directory's results cannot be "
                        f"matched to a run; if they are from this same command, delete {path} and rerun to resume, "
                        f"else pass another --out")
    return card


def read_records(path: Path, bad: Optional[list[str]] = None) -> list[ProblemRecord]:
    """Every good record in the file. A torn last line (the run was killed mid-write) is cut off
    the file, so appending continues cleanly and that problem is simply run again. A bad line
    elsewhere is left in place, named (logged, and appended to `bad` when given) and skipped:
    the good records after it are kept and only its problem runs again."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    records: list[ProblemRecord] = []
    complete = raw.rfind(b"\n") + 1  # bytes after the last newline were never finished
    for lineno, line in enumerate(raw[:complete].split(b"\n")[:-1], 1):
        if not line.strip():
            continue
        try:
            records.append(ProblemRecord.from_dict(json.loads(line)))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            why = f"{path} line {lineno} is not a record ({type(exc).__name__}: {str(exc)[:120]}); skipped: that problem runs again"
            log.warning(why)
            if bad is not None:
                bad.append(why)
    if complete < len(raw):
        with open(path, "r+b") as fh:
            fh.truncate(complete)
    return records


def record_key(split: str, name: str) -> tuple[str, str]:
    return (split, name)


class ResultsWriter:
    """Appends one record per line and flushes it to disk before returning."""

    def __init__(self, path: Path):
        self.fh = open(path, "a", encoding="utf-8")

    def write(self, record: ProblemRecord) -> None:
        self.fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


# -- report ----------------------------------------------------------------------------------
def _fmt(v: Optional[float]) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _table(groups: dict[str, list[ProblemRecord]], ks: list[int], label: str) -> list[str]:
    lines = [f"| {label} | problems | solved | " + " | ".join(f"pass@{k}" for k in ks) + " |",
             "|---|---:|---:|" + "---:|" * len(ks)]
    for key, recs in groups.items():
        cells = [_fmt(mean_pass_at_k(recs, k)) for k in ks]
        lines.append(f"| {key} | {len(recs)} | {sum(r.solved for r in recs)} | " + " | ".join(cells) + " |")
    return lines


def _reason_label(why: str) -> str:
    return why.split(":", 1)[0].strip() or why


def summary_markdown(records: list[ProblemRecord], card: dict) -> str:
    k = card["k"]
    ks = ks_to_report(k)
    by_split: dict[str, list[ProblemRecord]] = {"all": records}
    for r in records:
        by_split.setdefault(r.split or "(none)", []).append(r)
    by_source: dict[str, list[ProblemRecord]] = {}
    for r in sorted(records, key=lambda r: source_category(r.name)):
        by_source.setdefault(source_category(r.name), []).append(r)
    attempts = [a for r in records for a in r.attempts]
    statuses: dict[str, int] = {}
    for a in attempts:
        key = a.verdict["status"] if a.verdict else "not checked: " + _reason_label(a.why_not)
        statuses[key] = statuses.get(key, 0) + 1
    timing = card.get("timing", {})
    lines = [
        f"# pass@k: {card['dataset']} with {card['model']}",
        "",
        f"{len(records)} problems, {card.get('search_method', 'best-of-n')} search, budget k={k} samples each"
        + (", stopping at the first proof" if card.get("stop_at_first") else "")
        + f"; prompt format `{card['prompt_format']}`; sampling temperature {card['sampling']['temperature']}, "
          f"top_p {card['sampling']['top_p']}, max_tokens {card['sampling']['max_tokens']}; "
          f"Lean {card.get('lean', {}).get('lean')} ({card.get('checker', {}).get('backend')} backend).",
        "",
        "## By split",
        "",
        *_table(by_split, ks, "split"),
        "",
        "## By problem source",
        "",
        *_table(by_source, ks, "source"),
        "",
        "## Attempts",
        "",
        f"{len(attempts)} attempts: " + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items(), key=lambda kv: -kv[1])),
        "",
    ]
    if timing:
        lines += ["## Time", "",
                  f"generation {timing.get('generation_seconds', 0):.1f} s, verification {timing.get('verification_seconds', 0):.1f} s "
                  f"(summed over checks, which overlap generation), wall {timing.get('wall_seconds', 0):.1f} s.", ""]
    return "\n".join(lines)


def plot_curve(records: list[ProblemRecord], k: int, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    splits = {"all": records}
    for r in records:
        splits.setdefault(r.split or "(none)", []).append(r)
    if len(splits) == 2:  # one split: "all" says it
        splits = {"all": records}
    for label, recs in splits.items():
        curve = pass_at_k_curve(recs, range(1, k + 1))
        if curve:
            ax.plot(list(curve), [100 * v for v in curve.values()], marker="o", label=f"{label} ({len(recs)})")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (samples per problem)")
    ax.set_ylabel("pass@k (%)")
    ax.set_ylim(0, 100)  # percent: a run where everything is 0 still gets a readable axis
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, buf.getvalue())


# -- the run ---------------------------------------------------------------------------------
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
    temperature: float = 1.0
    top_p: float = 0.95
    max_tokens: Optional[int] = None
    seed: Optional[int] = 0
    stop_at_first: bool = True
    round_size: Optional[int] = None
    batch_problems: int = 8
    policy_backend: str = "hf"
    checker_backend: Optional[str] = None
    lean: Optional[str] = None
    workers: Optional[int] = None
    search: str = "best-of-n"  # best-of-n | mcts | bfs: k is the sample budget of each
    extra: dict = field(default_factory=dict)


def make_search(method: str, policy, checker, params, budget: int, fmt: str, round_size: Optional[int] = None,
                stop_at_first: bool = True, batch_problems: int = 8, on_attempt=None):
    """The search behind --search: all three take a budget of model samples and return the
    same per-problem records (search.records), so one summary compares them. MCTS and BFS
    always stop at the first proof; BFS applies tactics on the checker's server or REPL."""
    if method == "best-of-n":
        from search.best_of_n import BestOfN

        return BestOfN(policy, checker, params, budget=budget, fmt=fmt, round_size=round_size,
                       stop_at_first=stop_at_first, batch_problems=batch_problems, on_attempt=on_attempt)
    if method == "mcts":
        from search.mcts import MCTS

        try:
            return MCTS(policy, checker, params, budget=budget, fmt=fmt, round_size=round_size, on_attempt=on_attempt)
        except ValueError as exc:  # a chat prompt format
            raise EvalError(str(exc)) from None
    if method == "repair":
        from search.repair import Repair

        return Repair(policy, checker, params, budget=budget, fmt=fmt, round_size=round_size, on_attempt=on_attempt)
    if method == "bfs":
        from search.bfs import BestFirst
        from search.tactic_env import ReplTacticEnv, ServerTacticEnv

        name = checker.backend.name
        if name not in ("server", "repl"):
            raise EvalError(f"--search bfs applies tactics one at a time, which needs the server or repl checker "
                            f"backend, not {name!r}: pass --checker server")
        env = ServerTacticEnv(checker) if name == "server" else ReplTacticEnv.from_settings(checker.settings)
        try:
            return BestFirst(policy, checker, params, budget=budget, fmt=fmt, env=env, on_attempt=on_attempt)
        except ValueError as exc:
            raise EvalError(str(exc)) from None
    raise EvalError(f"unknown search {method!r}; choose one of {', '.join(SEARCH_METHODS)}")


def default_max_tokens(rows: Sequence[dict], fmt: str) -> int:
    """Cheap for the logic benchmark (term proofs are short, CPU decoding is slow); the
    provers' own budgets for MiniF2F (DeepSeek-V1.5: 2048; reasoning chat models: 8192)."""
    from prover.protocol.prompts import get_format

    if rows and all(r.get("profile") == "bundled" for r in rows):
        return 128
    return 2048 if get_format(fmt).kind == "continuation" else 8192


def load_rows(spec: EvalSpec) -> list[dict]:
    import data

    try:
        return data.load(spec.dataset, split=spec.split, limit=spec.limit)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise EvalError(str(exc).strip('"')) from None


def dataset_description(spec: EvalSpec, rows: Sequence[dict]) -> dict:
    import data

    d: dict[str, Any] = {"spec": spec.dataset, "split": spec.split, "limit": spec.limit, "problems": len(rows)}
    try:
        v = data.variant(spec.dataset)
        d.update(file=v.file, profile=v.profile, description=v.description)
    except KeyError:
        d.update(file=str(spec.dataset))
    versions = sorted({str(r["version"]) for r in rows if r.get("version")})
    if versions:
        d["version"] = versions
    return d


def _check_identity(out_dir: Path, card: dict) -> None:
    old = read_card(out_dir / RUN_CARD)
    if old is None:
        return
    diffs = [f"{k}: {old.get(k)!r} there, {card.get(k)!r} now" for k in IDENTITY if old.get(k) != card.get(k)]
    if diffs:
        raise EvalError(f"{out_dir} holds results of a different run ({'; '.join(diffs)}); "
                        "pass another --out, or delete that directory to start over")


def write_report(out_dir: Path, records: list[ProblemRecord], card: dict) -> str:
    text = summary_markdown(records, card)
    write_atomic(out_dir / SUMMARY, text + "\n")
    plot_curve(records, card["k"], out_dir / CURVE, f"{card['dataset']} — {card['model']}")
    return text


def run_eval(spec: EvalSpec, out_dir: Path, *, policy=None, checker=None, settings: Optional[Settings] = None,
             on_start: Optional[Callable[[int, int], None]] = None,
             on_record: Optional[Callable[[ProblemRecord], None]] = None,
             on_attempt: Optional[Callable[[dict, Attempt], None]] = None) -> EvalResult:
    """Evaluate, appending to out_dir/results.jsonl; problems already there are skipped.
    `policy` / `checker` may be given (tests, benchmarks); else they are built from `spec`."""
    from lean_env.checker import Checker
    from prover.models import DEFAULT_MODEL, default_prompt_format
    from prover.policies import SamplingParams, load_policy
    from prover.protocol.prompts import default_stop

    from lean_env.limits import LimitError, check_object

    try:  # NaN, inf, bools, negative counts: refused before anything loads
        check_object(spec, ("k", "limit", "temperature", "top_p", "max_tokens", "seed", "round_size",
                            "batch_problems", "workers"))
    except LimitError as exc:
        raise EvalError(str(exc)) from None
    if spec.search not in SEARCH_METHODS:
        raise EvalError(f"unknown search {spec.search!r}; choose one of {', '.join(SEARCH_METHODS)}")
    rows = load_rows(spec)
    if not rows:
        raise EvalError(f"{spec.dataset} has no rows" + (f" in split {spec.split!r}" if spec.split else ""))
    try:
        settings = settings or Settings.from_env(lean=spec.lean, workers=spec.workers)
    except ValueError as exc:  # PROVER_TIMEOUT=nan and the like (lean_env.limits)
        raise EvalError(str(exc)) from None
    settings = lean_settings_for(rows, settings, spec.dataset)
    model_name = spec.model or DEFAULT_MODEL
    fmt = spec.prompt_format or default_prompt_format(model_name)
    params = SamplingParams(temperature=spec.temperature, top_p=spec.top_p,
                            max_tokens=spec.max_tokens or default_max_tokens(rows, fmt), seed=spec.seed,
                            stop=default_stop(fmt))
    card: dict[str, Any] = {
        "model": model_name, "dataset": spec.dataset, "split": spec.split, "limit": spec.limit, "k": spec.k,
        "prompt_format": fmt, "sampling": params.to_dict(), "stop_at_first": spec.stop_at_first,
        "search_method": spec.search,
        "search": {"method": spec.search.replace("-", "_"), "round_size": spec.round_size,
                   "batch_problems": spec.batch_problems},
        "dataset_variant": dataset_description(spec, rows),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        _check_identity(out_dir, card)
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
                policy = load_policy(spec.model, backend=spec.policy_backend)
            if checker is None:
                checker = Checker(spec.checker_backend, settings)
            if not (out_dir / RUN_CARD).exists():  # written once the model loaded: a killed run can resume
                write_atomic(out_dir / RUN_CARD, json.dumps(card, indent=2, ensure_ascii=False) + "\n")
            search = make_search(spec.search, policy, checker, params, spec.k, fmt, round_size=spec.round_size,
                                 stop_at_first=spec.stop_at_first, batch_problems=spec.batch_problems,
                                 on_attempt=on_attempt)
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
