"""RMaxTS-style tree search over whole-proof samples (after DeepSeek-Prover-V1.5, §3.2).

Each sample is a whole proof, written from some node of the tree. Lean checks it; if it is
not a proof, it is cut at Lean's first error ("unsolved goals" does not count: that is an
unfinished proof, not a wrong one). The part before the error's line is checked on its own
and, if Lean finds nothing wrong with it but unsolved goals, it becomes a node keyed by those
goals. Later samples can resume from that node: the prompt is the format's prompt, the prefix,
and the goals as a `/- tactic state: ... -/` comment, and the checked proof is prefix +
continuation (the comment is only shown to the model).

Which node to resume from is a bandit problem at every level of the tree: at each node the
arms are "expand here" and each child. Arms are scored with discounted UCB (rewards decay by
`gamma` per expansion, so arms that stopped paying off lose their lead), and the reward is
RMaxTS's intrinsic one: 1 when an expansion found a node the tree did not have, else 0 (a
proof ends the search). `round_size` expansions run concurrently (one batched generate call,
checks in parallel); each selected path carries a virtual loss until its result is backed up,
so the round spreads over the tree instead of picking one path `round_size` times.

The budget is counted in model samples (like best-of-n, so pass@k compares at equal samples);
Lean checks (samples + prefix checks) are counted too and can be capped with `max_checks`.
The tree can be checkpointed to json after every round and resumed from there.
"""
from __future__ import annotations

import json
import math
import re
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from lean_env.soundness.verdict import ProofTask, Verdict
from protocol.extract import extract
from protocol.policy import SamplingParams
from protocol.prompts import default_stop, row_header
from search.base import Search, task_dict
from search.records import Attempt, ProblemRecord, Row
from search.registry import register
from search.tactic_env import real_errors, resume_prompt, state_key, unsolved_goals, writes_sorry

ROOT = "<root>"
CHECKPOINT_VERSION = 1

# -- discounted UCB bookkeeping ----------------------------------------------------------------
@dataclass
class Arm:
    """Discounted statistics of one choice. `n`/`w` are the discounted count and reward sum as
    of global step `t`; reading them at a later step decays them by gamma**(now - t).
    `virtual` counts expansions in flight through this arm (virtual loss: they count as
    visits with reward 0 until their result is backed up)."""

    n: float = 0.0
    w: float = 0.0
    t: int = 0
    virtual: int = 0

    def at(self, now: int, gamma: float) -> tuple[float, float]:
        decay = gamma ** max(0, now - self.t)
        return self.n * decay, self.w * decay

    def update(self, now: int, gamma: float, reward: float) -> None:
        n, w = self.at(now, gamma)
        self.n, self.w, self.t = n + 1.0, w + reward, now


@dataclass
class Node:
    """A verified proof prefix. `prefix` is the text after the statement (ends at a line
    break; "" at the root); `goals` what Lean says is left after it (None at the root, where
    the prompt shows the statement itself)."""

    key: str
    prefix: str
    goals: Optional[list[str]]
    parent: Optional[str]
    depth: int
    children: list[str] = field(default_factory=list)
    edge: Arm = field(default_factory=Arm)  # choosing this node from its parent
    here: Arm = field(default_factory=Arm)  # expanding at this node


class Tree:
    """The search tree of one problem, with discounted-UCB selection and virtual loss."""

    def __init__(self, c: float = 1.0, gamma: float = 0.99):
        self.c = c
        self.gamma = gamma
        self.step = 0  # expansions backed up so far (the discount clock)
        self.nodes: dict[str, Node] = {ROOT: Node(ROOT, "", None, None, 0)}

    @property
    def root(self) -> Node:
        return self.nodes[ROOT]

    def __len__(self) -> int:
        return len(self.nodes)

    def ucb(self, arm: Arm, total: float) -> float:
        n, w = arm.at(self.step, self.gamma)
        n += arm.virtual
        if n <= 0:
            return math.inf
        return w / n + self.c * math.sqrt(2.0 * math.log(max(total, 1.0)) / n)

    def options(self, node: Node) -> list[tuple[Optional[Node], Arm]]:
        """(child or None for "expand here", its arm)."""
        return [(None, node.here)] + [(self.nodes[k], self.nodes[k].edge) for k in node.children]

    def select(self, virtual_loss: int = 1) -> list[str]:
        """A path of node keys from the root to the node to expand; adds `virtual_loss` to every
        arm on it (undo with `backup`)."""
        path = [ROOT]
        node = self.root
        while True:
            opts = self.options(node)
            total = sum(a.at(self.step, self.gamma)[0] + a.virtual for _, a in opts)
            best = max(range(len(opts)), key=lambda i: (self.ucb(opts[i][1], total), -i))
            child, arm = opts[best]
            arm.virtual += virtual_loss
            if child is None:
                return path
            path.append(child.key)
            node = child

    def arms_on(self, path: list[str]) -> list[Arm]:
        return [self.nodes[k].edge for k in path[1:]] + [self.nodes[path[-1]].here]

    def backup(self, path: list[str], reward: float, virtual_loss: int = 1) -> None:
        """Credit `reward` to every arm on the path and take its virtual loss back."""
        self.step += 1
        for arm in self.arms_on(path):
            arm.virtual = max(0, arm.virtual - virtual_loss)
            arm.update(self.step, self.gamma, reward)

    def add(self, parent: str, key: str, prefix: str, goals: list[str]) -> bool:
        """Add a node under `parent`; False when a node with this state already exists (the
        first prefix that reached a state keeps it)."""
        if key in self.nodes:
            return False
        p = self.nodes[parent]
        self.nodes[key] = Node(key, prefix, list(goals), parent, p.depth + 1)
        p.children.append(key)
        return True

    def depth(self) -> int:
        return max(n.depth for n in self.nodes.values())

    # -- checkpoints --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"c": self.c, "gamma": self.gamma, "step": self.step,
                "nodes": [asdict(n) for n in self.nodes.values()]}

    @classmethod
    def from_dict(cls, d: dict) -> "Tree":
        tree = cls(d["c"], d["gamma"])
        tree.step = d["step"]
        tree.nodes = {}
        for nd in d["nodes"]:
            nd = dict(nd)
            nd["edge"], nd["here"] = Arm(**nd["edge"]), Arm(**nd["here"])
            tree.nodes[nd["key"]] = Node(**nd)
        return tree

# -- truncation --------------------------------------------------------------------------------
def first_error(verdict: Verdict):
    """Lean's first error that makes the text wrong (not "unsolved goals"), by position."""
    errs = [m for m in real_errors(verdict) if m.line is not None]
    return min(errs, key=lambda m: (m.line, m.column or 0)) if errs else None


def cut_points(formal_statement: str, proof: str, error_line: int, max_cuts: int = 3) -> list[str]:
    """Prefixes of `proof` ending at the start of candidate line `error_line` or of an earlier
    line, longest first (candidate line 1 = the statement's first line, as in a Verdict).
    Only prefixes that contain more than a bare `by` are returned."""
    text = formal_statement + proof
    starts = [0] + [m.end() for m in re.finditer("\n", text)]  # offset of each line's start
    out: list[str] = []
    for line in range(min(error_line, len(starts)), 0, -1):
        off = starts[line - 1]
        if off <= len(formal_statement):
            break
        prefix = text[len(formal_statement):off]
        if prefix.strip() not in ("", "by") and prefix not in out:
            out.append(prefix)
            if len(out) >= max_cuts:
                break
    return out


def valid_prefix_state(verdict: Verdict, prefix: str) -> Optional[list[str]]:
    """The goals left after a prefix whose check found nothing wrong but unsolved goals, else
    None (the prefix is not a sound place to resume from)."""
    if verdict.ok or verdict.status != "rejected" or real_errors(verdict) or writes_sorry(verdict, prefix):
        return None
    goals = unsolved_goals(verdict)
    return goals or None

# -- the search --------------------------------------------------------------------------------
@dataclass
class _Expansion:
    path: list[str]
    attempt: Attempt
    proof: Optional[str] = None  # the full proof text checked (prefix + continuation)
    future: Optional[Future] = None
    verdict: Optional[Verdict] = None


@dataclass
class _Problem:
    row: Row
    tree: Tree
    attempts: list[Attempt] = field(default_factory=list)
    checks: int = 0
    prefix_checks: int = 0
    prefix_cache: dict = field(default_factory=dict)  # prefix text -> goals (or None: not valid)
    gen_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    proved_by_prefix: bool = False

    def first_ok(self) -> Optional[int]:
        return next((i for i, a in enumerate(self.attempts) if a.ok), None)


@dataclass
class MCTSConfig:
    round_size: Optional[int] = None  # leaves expanded per generate call (default: min(budget, 8))
    c: float = 1.0  # UCB exploration constant
    gamma: float = 0.99  # discount of old rewards (RMaxTS's non-stationary bandit)
    max_backoff: int = 3  # how far up the tree a failed expansion's state falls back
    max_checks: Optional[int] = None  # Lean checks per problem (None: only the sample budget limits)
    checkpoint_dir: Optional[Path] = None  # save each tree after every round; a rerun resumes it


@register
class MCTS(Search):
    """A ProblemRecord per problem (`method` "mcts"), like every search.base.Search; stops at a
    problem's first proof. Continuation prompt formats only (the model must be able to continue
    a proof prefix)."""

    name = "mcts"
    method = "mcts"
    Config = MCTSConfig
    needs_continuation = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cfg = self.config
        self.round_size = max(1, min(cfg.round_size or min(self.budget, 8), self.budget))
        self.c, self.gamma = cfg.c, cfg.gamma
        self.max_backoff = max(1, cfg.max_backoff)
        self.max_checks = cfg.max_checks
        self.checkpoint_dir = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else None

    def _sampling(self, params: SamplingParams) -> SamplingParams:
        return params.replace(stop=params.stop or default_stop(self.fmt))

    # -- one problem ----------------------------------------------------------------------------
    def _solve(self, row: Row) -> ProblemRecord:
        p = self._resume(row) or _Problem(row, Tree(self.c, self.gamma))
        while (p.first_ok() is None and len(p.attempts) < self.budget
               and (self.max_checks is None or p.checks < self.max_checks)):
            self._round_of(p, min(self.round_size, self.budget - len(p.attempts)))
            self._save(p)
        return self._record(p)

    def _prompt(self, p: _Problem, node: Node) -> str:
        tok = getattr(self.policy, "tokenizer", None)
        if node.key == ROOT:
            return resume_prompt(p.row, self.fmt, "", None, tok)
        return resume_prompt(p.row, self.fmt, node.prefix, node.goals, tok)

    def _round_of(self, p: _Problem, size: int) -> None:
        tree = p.tree
        expansions = [_Expansion(tree.select(), Attempt(completion="")) for _ in range(size)]
        # one generate call per distinct sample count; the same node's prompts share a call
        by_prompt: dict[str, list[_Expansion]] = {}
        for e in expansions:
            by_prompt.setdefault(self._prompt(p, tree.nodes[e.path[-1]]), []).append(e)
        pairs, seconds = self._generate_grouped(p.row, by_prompt, len(p.attempts))
        p.gen_seconds += seconds
        for e, c in pairs:
            self._prepare(p, e, c)
        for e in expansions:  # checks run in parallel on the Checker's threads
            if e.future is not None:
                e.verdict = e.future.result()
                e.attempt.verdict = e.verdict.to_dict()
                p.checks += 1
                self.stats.checks += 1
                self.stats.verification_seconds += e.verdict.seconds
        self._learn(p, expansions)

    def _prepare(self, p: _Problem, e: _Expansion, c) -> None:
        node = p.tree.nodes[e.path[-1]]
        self.stats.completions += 1
        self.stats.tokens += c.num_tokens
        e.attempt = Attempt(completion=c.text, finish_reason=c.finish_reason, num_tokens=c.num_tokens,
                            logprob=c.logprob)
        ex = extract(p.row, node.prefix + c.text, self.fmt, truncated=c.truncated)
        if ex.task is None:
            e.attempt.why_not = ex.reason
            return
        e.attempt.task = task_dict(ex.task)
        e.proof = ex.task.proof
        e.future = self.checker.submit(ex.task)

    def _learn(self, p: _Problem, expansions: list[_Expansion]) -> None:
        """Record attempts in order, truncate failures, grow the tree, back up rewards."""
        # the cuts to verify, longest first; verify each round of candidates in parallel
        cuts: dict[int, list[str]] = {}
        for i, e in enumerate(expansions):
            if e.verdict is None or e.verdict.ok or e.proof is None:
                continue
            err = first_error(e.verdict)
            if err is None:  # only unsolved goals: the whole proof is a verified prefix already
                goals = valid_prefix_state(e.verdict, e.proof)
                if goals is not None:
                    p.prefix_cache.setdefault(_as_prefix(e.proof), goals)
                    cuts[i] = [_as_prefix(e.proof)]
                continue
            cuts[i] = cut_points(p.row["formal_statement"], e.proof, err.line, self.max_backoff)
        chosen: dict[int, Optional[str]] = {}
        for level in range(self.max_backoff):
            todo = {i: cs[level] for i, cs in cuts.items() if i not in chosen and level < len(cs)}
            self._verify_prefixes(p, set(todo.values()))
            for i, prefix in todo.items():
                if p.prefix_cache.get(prefix) is not None:
                    chosen[i] = prefix
        for i, e in enumerate(expansions):
            reward = 0.0
            prefix = chosen.get(i)
            if e.verdict is not None and e.verdict.ok:
                reward = 1.0
            elif prefix is not None:
                state = p.prefix_cache[prefix]
                if isinstance(state, Verdict):  # the prefix alone is a proof
                    e.attempt.task, e.attempt.verdict = {"proof": prefix.rstrip()}, state.to_dict()
                    p.proved_by_prefix = True
                    reward = 1.0
                elif p.tree.add(e.path[-1], state_key(state), prefix, state):
                    reward = 1.0
            p.tree.backup(e.path, reward)
            p.attempts.append(e.attempt)
            if self.on_attempt:
                self.on_attempt(p.row, e.attempt)

    def _verify_prefixes(self, p: _Problem, prefixes: set[str]) -> None:
        """Check each prefix on its own (in parallel) and cache its goals (None if it is not a
        sound place to resume from; its Verdict if it is a complete proof by itself)."""
        todo = sorted(x for x in prefixes if x not in p.prefix_cache)
        if self.max_checks is not None:
            todo = todo[: max(0, self.max_checks - p.checks)]
        futures = {}
        for prefix in todo:
            task = ProofTask(formal_statement=p.row["formal_statement"], header=row_header(p.row),
                             proof=prefix.rstrip())
            futures[prefix] = self.checker.submit(task)
        for prefix, fut in futures.items():
            v: Verdict = fut.result()
            p.checks += 1
            p.prefix_checks += 1
            self.stats.checks += 1
            self.stats.verification_seconds += v.seconds
            p.prefix_cache[prefix] = v if v.ok else valid_prefix_state(v, prefix)

    def _record(self, p: _Problem) -> ProblemRecord:
        r = ProblemRecord.for_row(p.row, self.method, self.budget)
        r.close(p.attempts, p.gen_seconds, p.started)
        r.extra = {"nodes": len(p.tree), "depth": p.tree.depth(), "checks": p.checks,
                   "prefix_checks": p.prefix_checks, "proved_by_prefix": p.proved_by_prefix}
        return r

    # -- checkpoints ----------------------------------------------------------------------------
    def checkpoint_path(self, row: Row) -> Optional[Path]:
        if self.checkpoint_dir is None:
            return None
        safe = re.sub(r"[^\w.-]", "_", str(row.get("name") or "problem"))
        return self.checkpoint_dir / f"{safe}.mcts.json"

    def _save(self, p: _Problem) -> None:
        path = self.checkpoint_path(p.row)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        data = checkpoint_dict(p.row, p.tree, p.attempts, p.checks, p.prefix_checks)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # atomic: a killed run leaves the previous checkpoint

    def _resume(self, row: Row) -> Optional[_Problem]:
        path = self.checkpoint_path(row)
        if path is None or not path.exists():
            return None
        loaded = load_checkpoint(path, row)
        if loaded is None:
            return None
        tree, attempts, checks, prefix_checks = loaded
        p = _Problem(row, tree, attempts, checks, prefix_checks)
        for node in tree.nodes.values():  # what was verified stays verified
            if node.key != ROOT:
                p.prefix_cache[node.prefix] = node.goals
        return p


def _as_prefix(proof: str) -> str:
    """A whole (unfinished) proof as a node prefix: ends with one line break."""
    return proof.rstrip() + "\n"


def checkpoint_dict(row: Row, tree: Tree, attempts: list[Attempt], checks: int = 0, prefix_checks: int = 0) -> dict:
    return {"version": CHECKPOINT_VERSION, "name": row.get("name", ""), "formal_statement": row["formal_statement"],
            "tree": tree.to_dict(), "attempts": [asdict(a) for a in attempts], "checks": checks,
            "prefix_checks": prefix_checks}


def load_checkpoint(path: Path, row: Row) -> Optional[tuple[Tree, list[Attempt], int, int]]:
    """(tree, attempts, checks, prefix checks) saved for this row's theorem; None when the file
    holds another theorem or an unknown version (then the search starts afresh)."""
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    if d.get("version") != CHECKPOINT_VERSION or d.get("formal_statement") != row["formal_statement"]:
        return None
    return (Tree.from_dict(d["tree"]), [Attempt(**a) for a in d["attempts"]], int(d.get("checks", 0)),
            int(d.get("prefix_checks", 0)))
