"""One place that says which values a row, a config or a request may carry: types, ranges and
sizes. `prover check` rows, ProofTask, the eval spec, Settings and the training config all call
it, so a NaN timeout or a 50 MB proof is refused up front, with the same message everywhere,
instead of switching a limit off, overflowing a timer or spending a minute in the allowlist scan.

Every error names the field, what it must be and how to fix it; callers prefix where the value
came from ("line 3: ", "run.yaml: ").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional

# A check that needs more than an hour is a stuck check; Python's timers overflow near 1e10 s.
MAX_TIMEOUT_S = 3600.0
# One Lean text field (proof, code, header, statement). Real model proofs are kilobytes; a
# megabyte is already far beyond any, and the allowlist scan of it still takes well under a second.
MAX_TEXT_CHARS = 1_000_000
# One jsonl line of `prover check` / eval input, refused before it is even parsed.
MAX_ROW_BYTES = 4 * MAX_TEXT_CHARS
MAX_NAME_CHARS = 1_000
MAX_COUNT = 1_000_000  # samples, tokens, rows, workers ... (anything larger is a typo)


class LimitError(ValueError):
    """A value of the wrong type, out of range or too large; the message says the fix."""


@dataclass(frozen=True)
class Rule:
    kind: str  # "number" | "int" | "text" | "flag"
    lo: Optional[float] = None
    hi: Optional[float] = None
    lo_open: bool = False  # lo itself is not allowed
    hint: str = ""  # an example of a good value
    size: int = MAX_TEXT_CHARS  # for text

    def describe(self) -> str:
        if self.kind == "flag":
            return "true or false"
        if self.kind == "text":
            return f"a string of at most {self.size:,} characters"
        what = "a whole number" if self.kind == "int" else "a finite number"
        if self.lo is not None and self.hi is not None:
            left = "(" if self.lo_open else "["
            return f"{what} in {left}{_num(self.lo)}, {_num(self.hi)}]"
        if self.lo is not None:
            return f"{what} {'>' if self.lo_open else '>='} {_num(self.lo)}"
        return what


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


_SECONDS = Rule("number", 0, MAX_TIMEOUT_S, lo_open=True, hint="seconds, e.g. 60")
_TEXT = Rule("text")
_POSITIVE = Rule("int", 1, MAX_COUNT, hint="e.g. 8")
_NONNEG = Rule("int", 0, MAX_COUNT, hint="0 for the default")

# Field name -> rule. Names are the ones users write (jsonl columns, YAML keys, CLI options).
RULES: dict[str, Rule] = {
    # a row / a ProofTask / a check request
    "name": Rule("text", size=MAX_NAME_CHARS),
    "env": Rule("text", size=MAX_NAME_CHARS, hint="e.g. logic"),
    "header": _TEXT,
    "formal_statement": _TEXT,
    "informal_prefix": _TEXT,
    "proof": _TEXT,
    "code": _TEXT,
    "timeout": _SECONDS,
    "allow_native_decide": Rule("flag"),
    # sampling and search (eval spec, `prover prove`, the service)
    "k": _POSITIVE,
    "n": _POSITIVE,
    "limit": _NONNEG,
    "max_tokens": _POSITIVE,
    "temperature": Rule("number", 0, 100, hint="e.g. 1.0 (0: greedy)"),
    "top_p": Rule("number", 0, 1, lo_open=True, hint="e.g. 0.95"),
    "seed": Rule("int", 0, 2**63 - 1, hint="e.g. 0"),
    "round_size": _POSITIVE,
    "batch_problems": _POSITIVE,
    # Lean-side settings
    "workers": Rule("int", 0, 4096, hint="0: one per core"),
    "memory_mb": Rule("int", 1, 2**31, hint="e.g. 4096"),
    "address_space_mb": Rule("int", 1, 2**31, hint="e.g. 16384"),
    "threads": Rule("int", 1, 4096, hint="e.g. 1"),
    "recycle_checks": _POSITIVE,
    "recycle_rss_mb": Rule("int", 1, 2**31, hint="e.g. 8192"),
    "queue": _NONNEG,
    # training config (prover.train.config), our own options
    "checker_timeout": _SECONDS,
    "checker_workers": Rule("int", 0, 4096, hint="0: one per core"),
    "torch_threads": Rule("int", 0, 4096, hint="0: torch's default"),
    "max_rows": _NONNEG,
    "lora_r": _POSITIVE,
    "lora_alpha": Rule("number", 0, 1e6, lo_open=True, hint="e.g. 32"),
    "lora_dropout": Rule("number", 0, 1, hint="e.g. 0.05"),
    "ray_actors": _NONNEG,
    "format_reward": Rule("number", -1e6, 1e6, hint="e.g. 0.1 (0: off)"),
    "heldout_every": _NONNEG,
    "heldout_size": _NONNEG,
    "heldout_k": _POSITIVE,
    "heldout_temperature": Rule("number", 0, 100, hint="e.g. 1.0"),
    "heldout_max_new_tokens": _NONNEG,
}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check(field: str, value: Any, where: str = "", rule: Optional[Rule] = None) -> Any:
    """`value` if it obeys the rule for `field` (ints given for numbers come back as floats);
    else LimitError "WHERE`field` must be ..., got ...: give ...". None passes (unset)."""
    rule = rule or RULES[field]
    if value is None:
        return None
    head = f"{where}`{field}` must be {rule.describe()}"
    fix = f"; give {rule.hint}" if rule.hint else ""
    if rule.kind == "flag":
        if not isinstance(value, bool):
            raise LimitError(f"{head}, got {_show(value)}: write true or false (JSON booleans, not strings)")
        return value
    if rule.kind == "text":
        if not isinstance(value, str):
            raise LimitError(f"{head}, got {type(value).__name__} {_show(value)}{fix}")
        if len(value) > rule.size:
            raise LimitError(f"{where}`{field}` is {len(value):,} characters, over the limit of {rule.size:,}: "
                             f"a {field} this large is not a proof the checker will run; shorten it")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LimitError(f"{head}, got {type(value).__name__} {_show(value)}{fix}")
    if rule.kind == "int" and isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise LimitError(f"{head}, got {_show(value)}{fix}")
        value = int(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise LimitError(f"{head}, got {_show(value)}{fix}")
    too_low = rule.lo is not None and (value <= rule.lo if rule.lo_open else value < rule.lo)
    too_high = rule.hi is not None and value > rule.hi
    if too_low or too_high:
        raise LimitError(f"{head}, got {_show(value)}{fix}")
    return float(value) if rule.kind == "number" else value


def check_fields(values: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """Every field of `values` that has a rule, checked; the others are left to their owner."""
    return {k: check(k, v, where) if k in RULES else v for k, v in values.items()}


def check_object(obj: Any, names: tuple[str, ...], where: str = "", aliases: Optional[Mapping[str, str]] = None) -> None:
    """Check attributes `names` of a dataclass-like object in place (coerced values written back).
    `aliases` maps an attribute to the rule it follows when its own name has none."""
    aliases = aliases or {}
    for name in names:
        rule = RULES.get(name) or RULES[aliases[name]]
        value = getattr(obj, name)
        checked = check(name, value, where, rule)
        if type(checked) is not type(value):  # 60 -> 60.0 for a number field
            setattr(obj, name, checked)


def check_row_size(raw: bytes | str, where: str = "") -> None:
    """Refuse a jsonl line too large to be a task before parsing it."""
    if len(raw) > MAX_ROW_BYTES:
        raise LimitError(f"{where}the row is {len(raw):,} bytes, over the limit of {MAX_ROW_BYTES:,}: "
                         f"no proof is this large; shorten it or split the file")
