"""Tactic environments for tactic-level search: a goal state, a tactic, and what Lean says next.

One small interface (`TacticEnv`: start / apply / close) with two Lean-backed implementations,
so best-first search (search.bfs) runs unchanged on either:

- `ServerTacticEnv`: on the Checker's `server` pool (every Lean has it). A state is the tactic
  script so far; applying a tactic checks the statement with script+tactic through the Checker
  (a real Verdict), treats "unsolved goals" as "still open", and reads the goals after the
  tactic from the Lean server (`$/lean/plainGoal`), falling back to the goals Lean listed in
  its "unsolved goals" errors.
- `ReplTacticEnv`: leanprover-community/repl's tactic mode (`{"tactic", "proofState"}`), where
  each state is a proof-state id inside one REPL process. `goals == []` is not "done": only the
  REPL's `proofStatus == "Completed"` with no error is (see lean_env.running.repl_protocol). REPLs
  before leanprover-community/repl#63 (the deepseek-v1.5 profile's) send no `proofStatus`:
  there a state with no goals is decided by checking the whole file (statement + script).

Either way a proof the search finds is a search signal only; search.bfs re-checks the whole
proof with Checker.check before it counts.

Also here: the text helpers that search shares with the prompt side (the tactic script of a
statement, the tactic state written as a Lean comment, DeepSeek-Prover-V1.5-style resume
prompts), so MCTS and BFS show a model the same thing.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Optional, Protocol, Sequence

from lean_env.soundness.checkfile import compose
from lean_env.soundness.verdict import Message, ProofTask, Verdict
from protocol.prompts import build_prompt, get_format, row_header, state_prompt

TacticStatus = Literal["open", "proved", "error"]
UNSOLVED = "unsolved goals"
INDENT = "  "


# -- text helpers ------------------------------------------------------------------------------
def is_unsolved_goals(m: Message) -> bool:
    """Lean's "unsolved goals" error: the proof so far is fine, it just is not finished."""
    return m.text.startswith(UNSOLVED)


def real_errors(verdict: Verdict) -> list[Message]:
    """Errors that mean the text is wrong (everything except "unsolved goals")."""
    return [m for m in verdict.errors if not is_unsolved_goals(m)]


_SORRY_RE = re.compile(r"(?<![\w.'])(sorry|admit)(?![\w'])")


def writes_sorry(verdict: Verdict, text: str) -> bool:
    """Whether the text itself gives up a goal (`sorry`/`admit`). Not `verdict.sorries`: Lean
    closes the goals of an unfinished proof with a synthetic sorry, so every open state has
    sorryAx among its axioms; only a written sorry (Lean's "declaration uses sorry" warning,
    or the word in the text outside comments) disqualifies a state."""
    from lean_env.soundness.messages import is_sorry_warning
    from lean_env.soundness.statement import strip_comments

    return any(is_sorry_warning(w) for w in verdict.warnings) or bool(_SORRY_RE.search(strip_comments(text)))


def goals_in_message(text: str) -> list[str]:
    """The goals listed in one "unsolved goals" message (Lean separates goals by a blank line)."""
    body = text[len(UNSOLVED):].strip("\n") if text.startswith(UNSOLVED) else text
    return [g.strip("\n") for g in re.split(r"\n\s*\n", body) if g.strip()]


def unsolved_goals(verdict: Verdict) -> list[str]:
    """Every goal Lean reported as unsolved, in message order (with `·` focusing there is one
    message per open focus block, so together they are the whole remaining state)."""
    goals: list[str] = []
    for m in verdict.errors:
        if is_unsolved_goals(m):
            goals += [g for g in goals_in_message(m.text) if g not in goals]
    return goals


def state_key(goals: Sequence[str]) -> str:
    """A canonical key for a goal state: the same goals in any order are the same state."""
    return "\n\n".join(sorted(" ".join(g.split()) for g in goals))


def tactic_proof(formal_statement: str, tactics: Sequence[str]) -> str:
    """The proof text (what follows the statement) for a tactic script, one tactic a line.
    Works for statements ending in `:=` (adds ` by`) and in `:= by` (with or without newline)."""
    lines = "\n".join(INDENT + t for t in tactics)
    s = formal_statement.rstrip()
    if s.endswith("by"):
        return lines if formal_statement.endswith("\n") else "\n" + lines
    return " by\n" + lines


def state_comment(goals: Sequence[str], indent: str = INDENT) -> str:
    """The tactic state as a Lean block comment, the way DeepSeek-Prover-V1.5 shows a model
    where a resumed proof stands. Comment markers inside a goal are defused."""
    body = "\n\n".join(goals) if goals else "no goals"
    body = body.replace("-/", "- /").replace("/-", "/ -")
    lines = [indent + "/- tactic state:"] + [(indent + line).rstrip() for line in body.split("\n")] + [indent + "-/"]
    return "\n".join(lines) + "\n"


def last_indent(proof: str) -> str:
    """The indentation of the proof's last non-blank line (where the next tactic goes)."""
    for line in reversed(proof.split("\n")):
        if line.strip():
            width = len(line) - len(line.lstrip(" \t"))
            return " " * width if width else INDENT
    return INDENT


def resume_prompt(row: Mapping[str, Any], fmt: str, prefix: str, goals: Optional[Sequence[str]],
                  tokenizer: Any = None) -> str:
    """The prompt that resumes a proof after `prefix` (text following the statement): the
    format's own prompt, the prefix, then the tactic state as a comment (when known), so the
    model continues on a fresh line. Continuation formats only: chat models restate the whole
    theorem, so there is nothing to resume into."""
    if get_format(fmt).kind != "continuation":
        raise ValueError(f"resuming a proof needs a continuation prompt format (e.g. deepseek-v1.5), not {fmt!r}")
    if fmt == "state" and goals is not None:
        return state_prompt(goals)
    base = build_prompt(row, fmt, tokenizer).text
    text = base + prefix
    if goals is not None:
        if not text.endswith("\n"):
            text += "\n"
        text += state_comment(goals, last_indent(prefix))
    elif prefix and not text.endswith("\n"):
        text += "\n"
    return text


# -- the interface -----------------------------------------------------------------------------
@dataclass
class TacticResult:
    """What applying one tactic did. `state` is the handle to pass to the next `apply` (None
    after an error); `tactics` the script from the start; `verdict` a Checker Verdict when the
    environment produced one (the server env does, the REPL does not)."""

    status: TacticStatus
    goals: list[str] = field(default_factory=list)
    state: Any = None
    tactics: tuple[str, ...] = ()
    error: str = ""
    verdict: Optional[Verdict] = None
    seconds: float = 0.0

    @property
    def key(self) -> str:
        return state_key(self.goals)


class TacticEnv(Protocol):
    name: str

    def start(self, row: Mapping[str, Any]) -> TacticResult:
        """The initial state of the row's theorem (status "open"), or an "error" result."""
        ...

    def apply(self, state: Any, tactic: str) -> TacticResult: ...

    def close(self) -> None: ...


def clean_tactic(text: str) -> str:
    """One tactic from a model's line: no surrounding blanks, nothing after a newline."""
    return text.strip().split("\n", 1)[0].strip()


# -- (a) the Lean server pool ------------------------------------------------------------------
class ServerTacticEnv:
    """Tactics applied by re-checking statement + script in the Checker's `server` pool (the
    header stays elaborated in each worker; only the theorem is re-elaborated). A state is the
    tuple of tactics so far. The row is fixed per `start` call; one env serves one search at a
    time."""

    name = "server"

    def __init__(self, checker, timeout: Optional[float] = None):
        if not hasattr(checker.backend, "goals"):
            raise ValueError(f"ServerTacticEnv needs the `server` checker backend, not {checker.backend.name!r}")
        self.checker = checker
        self.timeout = timeout
        self.row: Optional[Mapping[str, Any]] = None
        self.checks = 0

    def _task(self, tactics: Sequence[str]) -> ProofTask:
        assert self.row is not None, "call start(row) first"
        st = self.row["formal_statement"]
        return ProofTask(formal_statement=st, header=row_header(self.row), proof=tactic_proof(st, tactics),
                         timeout=self.timeout)

    def start(self, row: Mapping[str, Any]) -> TacticResult:
        self.row = row
        # `skip` changes nothing: the "unsolved goals" it leaves are the theorem's goal
        probe = self.apply((), "skip")
        if probe.status == "error":
            return probe
        return TacticResult("open", probe.goals, (), (), verdict=probe.verdict, seconds=probe.seconds)

    def apply(self, state: tuple[str, ...], tactic: str) -> TacticResult:
        tactic = clean_tactic(tactic)
        tactics = tuple(state) + (tactic,)
        if not tactic:
            return TacticResult("error", tactics=tactics, error="empty tactic")
        task = self._task(tactics)
        start = time.monotonic()
        verdict = self.checker.check(task)
        self.checks += 1
        seconds = time.monotonic() - start
        if verdict.ok:
            return TacticResult("proved", [], tactics, tactics, verdict=verdict, seconds=seconds)
        wrong = real_errors(verdict)
        if wrong or verdict.status != "rejected" or writes_sorry(verdict, task.proof or ""):
            why = wrong[0].short() if wrong else "; ".join(verdict.reasons) or verdict.status
            return TacticResult("error", tactics=tactics, error=why, verdict=verdict, seconds=seconds)
        goals = self._goals_after(task) or unsolved_goals(verdict)
        if not goals:  # no error, no goal, not ok: something else is wrong (e.g. the axioms)
            return TacticResult("error", tactics=tactics, error="; ".join(verdict.reasons) or "not a proof",
                                verdict=verdict, seconds=seconds)
        return TacticResult("open", goals, tactics, tactics, verdict=verdict, seconds=time.monotonic() - start)

    def _goals_after(self, task: ProofTask) -> Optional[list[str]]:
        """Goals at the end of the script's last line, from the Lean server."""
        cf = compose(task)
        last = cf.candidate_end  # body line of the last tactic
        text = cf.body.split("\n")[last - 1]
        try:
            goals = self.checker.backend.goals(cf, last, len(text), self.timeout)
        except Exception:  # a goal query is a convenience; the verdict's messages are the fallback
            return None
        return list(goals) if goals else None

    def close(self) -> None:
        pass


# -- (b) leanprover-community/repl tactic mode -------------------------------------------------
class ReplTacticEnv:
    """Tactic mode of one REPL process (proof-state ids live in that process, so the env owns a
    worker rather than borrowing from a pool). `worker` is a lean_env.running.backends.repl.ReplWorker."""

    name = "repl"

    def __init__(self, worker, timeout: float = 60.0, owns_worker: bool = True, send_header: bool = True,
                 checker=None):
        self.worker = worker
        self.timeout = timeout
        self.owns_worker = owns_worker
        self.send_header = send_header  # False when the REPL already has the environment (started with it)
        self.checker = checker  # decides a no-goals state without proofStatus; else this REPL's command mode
        self.checks = 0
        self.whole_file_checks = 0
        self.row: Optional[Mapping[str, Any]] = None
        self._env: Optional[int] = None
        self._option_prefix = ""

    @classmethod
    def from_settings(cls, settings=None, timeout: Optional[float] = None, checker=None) -> "ReplTacticEnv":
        """A REPL process as the `repl` backend would start it (argv, workspace, sandbox)."""
        from pathlib import Path

        from lean_env.running.backends.repl import ReplWorker, repl_argv, workspace_env
        from lean_env.running.settings import Settings

        s = settings or Settings.from_env()
        argv = repl_argv(s)
        readable, extra = [Path(argv[0])], {}
        if s.workspace:
            extra = dict(workspace_env(s.workspace, s.lean))
            readable.append(Path(s.workspace))
        return cls(ReplWorker(argv, s, readable, extra), timeout or s.timeout, checker=checker)

    def start(self, row: Mapping[str, Any]) -> TacticResult:
        from lean_env.running.repl_protocol import CommandResponse, command

        deadline = time.monotonic() + self.timeout
        header = row.get("header") or ""
        env = None
        self.row, self._env = row, None
        self._option_prefix = tactic_option_prefix(header)
        statement = row["formal_statement"].rstrip()
        opening = statement + ("\n  sorry" if statement.endswith("by") else " by\n  sorry")
        try:
            if header.strip() and self.send_header:
                env, _ = self.worker._header_env(header, deadline)
            resp = self.worker.request(command(opening, env=env), deadline)
        except Exception as exc:
            return TacticResult("error", error=f"the REPL did not start the proof: {exc}")
        self.checks += 1
        sorries = resp.raw.get("sorries") if isinstance(resp, CommandResponse) else None
        errors = [m for m in getattr(resp, "messages", []) if m.severity == "error"]
        if not sorries or errors or not isinstance(sorries[0].get("proofState"), int):
            why = errors[0].short() if errors else "the REPL gave no proof state for the theorem"
            return TacticResult("error", error=why)
        first = sorries[0]
        self._env = env
        return TacticResult("open", [str(first.get("goal", ""))], first["proofState"], ())

    def apply(self, state: Any, tactic: str) -> TacticResult:
        """`state` is (proof-state id, tactics so far) as returned in TacticResult.state."""
        from lean_env.running.repl_protocol import ErrorResponse

        ps, tactics = state if isinstance(state, tuple) else (state, ())
        tactic = clean_tactic(tactic)
        tactics = tuple(tactics) + (tactic,)
        if not tactic:
            return TacticResult("error", tactics=tactics, error="empty tactic")
        refused = self._refusal(tactics)
        if refused:
            return TacticResult("error", tactics=tactics, error=refused)
        start = time.monotonic()
        try:
            resp = self.worker.run_tactic(ps, self._option_prefix + tactic, self.timeout)
        except Exception as exc:
            return TacticResult("error", tactics=tactics, error=f"the REPL failed: {exc}")
        self.checks += 1
        if isinstance(resp, ErrorResponse):
            return TacticResult("error", tactics=tactics, error=resp.message, seconds=time.monotonic() - start)
        if needs_whole_file_check(resp) and self.row is not None:
            return self._whole_file(resp.proof_state, tactics, start)
        return interpret_tactic_response(resp, tactics, time.monotonic() - start)

    def _refusal(self, tactics: tuple[str, ...]) -> str:
        """Why the allowlist refuses the newest tactic, or "". The REPL reads the tactic on its own
        and the final check reads the joined script after the statement: both readings are judged,
        before any of it reaches Lean (no candidate code runs in tactic mode either)."""
        from lean_env.soundness.allowlist import violations
        from lean_env.checker import precheck

        found = [v.reason() for v in violations(tactics[-1])]
        if not found and self.row is not None:
            statement = self.row["formal_statement"]
            task = ProofTask(formal_statement=statement, header=row_header(self.row),
                             proof=tactic_proof(statement, tactics))
            verdict = precheck(task)
            found = verdict.reasons if verdict is not None else []
        return "; ".join(found)

    def _whole_file(self, proof_state: int, tactics: tuple[str, ...], start: float) -> TacticResult:
        """No goals left and no `proofStatus` to say whether the proof holds (an old REPL): check
        statement + script as one file, with the Checker when there is one (a real Verdict), else
        in this REPL's command mode (a search signal, which search.bfs confirms with its Checker)."""
        from lean_env.soundness.messages import is_sorry_warning
        from lean_env.running.repl_protocol import CommandResponse, command

        assert self.row is not None
        self.whole_file_checks += 1
        statement = self.row["formal_statement"]
        proof = tactic_proof(statement, tactics)
        state = (proof_state, tactics)
        if self.checker is not None:
            task = ProofTask(formal_statement=statement, header=row_header(self.row), proof=proof, timeout=self.timeout)
            verdict = self.checker.check(task)
            seconds = time.monotonic() - start
            if verdict.ok:
                return TacticResult("proved", [], state, tactics, verdict=verdict, seconds=seconds)
            return TacticResult("error", tactics=tactics, verdict=verdict, seconds=seconds,
                                error="the whole proof did not check: " + ("; ".join(verdict.reasons) or verdict.status))
        try:
            resp = self.worker.request(command(statement + proof, env=self._env), time.monotonic() + self.timeout)
        except Exception as exc:
            return TacticResult("error", tactics=tactics, error=f"the REPL failed on the whole proof: {exc}")
        seconds = time.monotonic() - start
        if not isinstance(resp, CommandResponse):
            return TacticResult("error", tactics=tactics, seconds=seconds,
                                error="the REPL did not check the whole proof")
        errors = [m for m in resp.messages if m.severity == "error"]
        if errors or resp.sorries or any(is_sorry_warning(m) for m in resp.messages):
            why = errors[0].short() if errors else "the whole proof uses sorry"
            return TacticResult("error", tactics=tactics, seconds=seconds, error=f"the whole proof did not check: {why}")
        return TacticResult("proved", [], state, tactics, seconds=seconds)

    def close(self) -> None:
        if self.owns_worker:
            self.worker.close()


def needs_whole_file_check(resp) -> bool:
    """A tactic response that looks finished (no goals, no error, no sorry) from a REPL that does
    not say whether the proof holds (no `proofStatus`: before leanprover-community/repl#63)."""
    from lean_env.running.repl_protocol import TacticResponse

    return (isinstance(resp, TacticResponse) and not resp.reports_status and not resp.goals
            and not resp.errors and not resp.sorries)


_HEARTBEATS_RE = re.compile(r"^\s*set_option\s+maxHeartbeats\s+(\d+)\s*$", re.MULTILINE)


def tactic_option_prefix(header: str) -> str:
    """`set_option maxHeartbeats N in` for the header's own heartbeat option: tactic mode runs
    with Lean's default (leanprover-community/repl#69), so a tactic the whole file would accept
    under `maxHeartbeats 0` would otherwise time out deterministically in search."""
    found = _HEARTBEATS_RE.findall(header or "")
    return f"set_option maxHeartbeats {found[-1]} in " if found else ""


def interpret_tactic_response(resp, tactics: tuple[str, ...], seconds: float = 0.0) -> TacticResult:
    """A REPL tactic response as a search step. Only `completed` (proofStatus "Completed", no
    goals, no error, no sorry) is "proved"; no goals with an error, a sorry or a kernel failure
    is an error, however finished it looks."""
    from lean_env.running.repl_protocol import TacticResponse

    if not isinstance(resp, TacticResponse):
        return TacticResult("error", tactics=tactics, error="the REPL did not answer with a proof state", seconds=seconds)
    if resp.errors:
        return TacticResult("error", tactics=tactics, error=resp.errors[0].short(), seconds=seconds)
    if resp.completed:
        return TacticResult("proved", [], (resp.proof_state, tactics), tactics, seconds=seconds)
    if resp.sorries or not resp.goals or resp.proof_status.startswith("Error"):
        return TacticResult("error", tactics=tactics, seconds=seconds,
                            error=f"not a proof step: {resp.proof_status or 'no goals and not completed'}")
    return TacticResult("open", list(resp.goals), (resp.proof_state, tactics), tactics, seconds=seconds)
