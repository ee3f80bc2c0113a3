"""The Checker's input (ProofTask) and output (Verdict): the one contract every backend shares."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal, Optional

Status = Literal["proved", "rejected", "timeout", "crashed", "refused"]
STATUSES: tuple[str, ...] = ("proved", "rejected", "timeout", "crashed", "refused")

# Axioms a proof may depend on and still count as a proof (Lean's standard three).
STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})


@dataclass
class ProofTask:
    """One theorem to check.

    `formal_statement` is the target (`theorem NAME ... := by` or `:=`). Exactly one of
    `proof` (text that continues the statement) or `code` (a whole Lean block that states the
    theorem itself) is given. `header` (imports / prelude / opens) governs the environment.
    """

    formal_statement: str
    header: str = ""
    proof: Optional[str] = None
    code: Optional[str] = None
    name: str = ""
    timeout: Optional[float] = None
    allow_native_decide: bool = False

    def __post_init__(self) -> None:
        if (self.proof is None) == (self.code is None):
            raise ValueError("a ProofTask needs exactly one of `proof` or `code`")
        from lean_env.soundness.limits import check_object

        # types, ranges and sizes first: a NaN timeout or a 50 MB proof never reaches a backend
        check_object(self, ("formal_statement", "header", "proof", "code", "name", "timeout", "allow_native_decide"))
        if not self.name:
            from lean_env.soundness.statement import theorem_name

            self.name = theorem_name(self.formal_statement)


@dataclass
class Message:
    """One Lean message. `line` is 1-based, `column` 0-based (Lean's convention), relative to
    the candidate text (the formal statement + proof, or the code block) unless noted."""

    severity: str  # "error" | "warning" | "information"
    text: str
    line: Optional[int] = None
    column: Optional[int] = None
    end_line: Optional[int] = None
    end_column: Optional[int] = None

    def short(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line is not None else ""
        return f"{where}{self.severity}: {self.text}"


@dataclass
class Verdict:
    """What the Checker concluded. `ok` is True only for a complete, sound proof of exactly
    the target; `reasons` says in words why not."""

    name: str
    ok: bool
    status: Status
    reasons: list[str] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    infos: list[Message] = field(default_factory=list)
    sorries: int = 0
    axioms: Optional[list[str]] = None
    seconds: float = 0.0
    backend: str = ""
    isolation: str = ""
    # why an ok verdict is ok, one entry per check (allowlist ("policy"), compiled, sorry, checks_ran, statement,
    # axioms, isolation, nonce; statement_text for code blocks); empty unless ok
    evidence: dict = field(default_factory=dict)
    cached: bool = False  # served from the verdict cache (lean_env.cache), not checked again now

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.ok and (self.status != "proved" or self.reasons):
            raise ValueError("an ok verdict must have status 'proved' and no reasons")

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict) -> "Verdict":
        d = dict(d)
        for key in ("errors", "warnings", "infos"):
            d[key] = [Message(**m) for m in d.get(key, [])]
        return cls(**d)

    def summary(self) -> str:
        head = f"{self.name}: {self.status} ({self.seconds:.2f}s)"
        return head if self.ok else head + " — " + "; ".join(self.reasons)
