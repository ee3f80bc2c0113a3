"""`prover eval DATASET`: pass@k with any --search method, resumable, with a report (prover.evaluation).

What the user sees while it runs (stderr): the model loading, each generation round as it
starts and ends (the long silent part on a CPU), and every checked attempt; on a terminal as a
live bar, otherwise one line per round and per problem. On Ctrl-C: one line saying how many
problems are saved and the exact command that resumes."""
from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Optional

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from prover.console import err, error, esc, info, is_quiet
from prover.evaluation import CURVE, RESULTS, RUN_CARD, SUMMARY, EvalError, EvalSpec, read_records, run_eval


def default_out_dir(spec: EvalSpec) -> Path:
    model = Path(spec.model).name if spec.model else "default"
    split = spec.split or "all"
    method = "" if spec.search == "best-of-n" else f"-{spec.search}"
    return Path("runs") / f"eval-{Path(spec.dataset).stem}-{split}-{model}-k{spec.k}{method}"


def resume_command(spec: EvalSpec, out_dir: Path) -> str:
    """The command line that continues this run into out_dir (every option that is not the
    default, so the run card's identity matches and the rerun resumes)."""
    args = ["prover", "eval", spec.dataset]
    defaults = EvalSpec(dataset=spec.dataset)
    for option, field in (("--split", "split"), ("-k", "k"), ("--limit", "limit"), ("--model", "model"),
                          ("--format", "prompt_format"), ("--max-tokens", "max_tokens"),
                          ("--temperature", "temperature"), ("--top-p", "top_p"), ("--seed", "seed"),
                          ("--engine", "engine"), ("--checker", "checker_backend"), ("--lean", "lean"),
                          ("--workers", "workers"), ("--search", "search"), ("--trust", "trust")):
        value = getattr(spec, field)
        if value != getattr(defaults, field) and value is not None:
            args += [option, str(value)]
    for key, value in spec.search_options.items():
        args += ["-O", f"{key}={value}"]
    if not spec.stop_at_first:
        args.append("--all-samples")
    return shlex.join(args + ["--out", str(out_dir)])


class LazyPolicy:
    """Loads the model at its first use (so a finished run never loads it) and reports each
    generate call: on a CPU one round of samples takes minutes, which must not look like a hang."""

    def __init__(self, spec: EvalSpec, on_event):
        self.spec = spec
        self.on_event = on_event
        self._policy = None

    def _load(self):
        if self._policy is None:
            from prover.models import DEFAULT_MODEL
            from prover.policies import load_policy

            name = self.spec.model or DEFAULT_MODEL
            self.on_event("loading", f"loading {name} ({self.spec.engine})")
            started = time.monotonic()
            self._policy = load_policy(self.spec.model, backend=self.spec.engine)
            self.on_event("loaded", f"loaded {name} in {time.monotonic() - started:.1f}s")
        return self._policy

    def generate(self, prompts, params):
        policy = self._load()
        n = len(prompts) * params.n
        self.on_event("generating", f"generating {n} samples for {len(prompts)} problem(s), "
                                    f"up to {params.max_tokens} tokens each")
        started = time.monotonic()
        out = policy.generate(prompts, params)
        self.on_event("generated", f"generated {n} samples in {time.monotonic() - started:.1f}s")
        return out

    def close(self) -> None:
        if self._policy is not None:
            self._policy.close()

    def __getattr__(self, attr):  # name, backend, tokenizer, stats ...
        if self._policy is None and attr in ("name", "backend"):  # the run card of a run with nothing to do
            from prover.models import DEFAULT_MODEL

            return self.spec.model or DEFAULT_MODEL if attr == "name" else self.spec.engine
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self._load(), attr)


def run_eval_command(spec: EvalSpec, out: Optional[Path]) -> int:
    from lean_env.running.toolchain import ToolchainError
    from prover.models import ModelLoadError

    out_dir = out or default_out_dir(spec)
    live = err.is_terminal and not is_quiet()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[info]}"), console=err, transient=False, disable=not live,
                        redirect_stdout=False, redirect_stderr=False)
    state = {"job": None, "solved": 0, "done": 0, "total": 0, "finished_attempts": 0, "activity": "", "inflight": {}}

    def show() -> None:
        if state["job"] is None:
            return
        attempts = state["finished_attempts"] + sum(state["inflight"].values())
        progress.update(state["job"], info=f"{attempts} attempts, {state['solved']} solved  {state['activity']}")

    def on_event(kind: str, text: str) -> None:
        state["activity"] = f"· {text}" if kind in ("loading", "generating") else ""
        if live:
            show()
            if kind in ("loading", "loaded"):
                err.print(esc(text))
        else:
            info(esc(text))

    def on_start(total: int, already: int) -> None:
        state.update(total=total, done=already)
        if already:
            info(f"resuming {esc(out_dir)}: {already} of {total} problems already done")
        info(f"{total - already} problem(s) to do, up to {spec.k} attempts each; results in {esc(out_dir)}")
        state["job"] = progress.add_task("problems", total=total, completed=already, info="")

    def on_attempt(row, attempt) -> None:
        key = (str(row.get("split", "")), str(row.get("name", "")))
        state["inflight"][key] = state["inflight"].get(key, 0) + 1
        show()

    def on_record(record) -> None:
        state["inflight"].pop((record.split, record.name), None)
        state["done"] += 1
        state["solved"] += record.solved
        state["finished_attempts"] += record.n
        progress.update(state["job"], advance=1)
        show()
        if not live:
            what = f"proved by attempt {record.first_success_index + 1}" if record.solved else "not proved"
            info(f"\\[{state['done']}/{state['total']}] {esc(record.name)}: {what} "
                 f"({record.n} attempts, {record.seconds:.1f}s)")

    policy = LazyPolicy(spec, on_event)
    try:
        with progress:
            result = run_eval(spec, out_dir, policy=policy, on_start=on_start, on_record=on_record,
                              on_attempt=on_attempt)
    except (EvalError, ModelLoadError, ToolchainError) as exc:
        error(exc)
        return 2
    except KeyboardInterrupt:
        saved = len(read_records(out_dir / RESULTS)) if (out_dir / RESULTS).exists() else 0
        err.print(f"\ninterrupted: {saved} of {state['total'] or '?'} problems saved in {esc(out_dir / RESULTS)}; "
                  f"resume with: {esc(resume_command(spec, out_dir))}")
        return 130
    finally:
        policy.close()
    print(result.summary)
    info(f"results: {esc(out_dir / RESULTS)}\nsummary: {esc(out_dir / SUMMARY)}\ncurve:   {esc(out_dir / CURVE)}\n"
         f"run card: {esc(out_dir / RUN_CARD)}\nsee it again with: prover show {esc(out_dir)}")
    return 0
