"""Load theorem datasets as uniform rows: the shipped benchmarks by name, a local jsonl, or a
Hugging Face dataset, with a field mapping for files that name their columns differently.

Every row comes back with name, split, header, informal_prefix, formal_statement, source and
the setup profile its statements need (`prover setup PROFILE`; lean_env/install/profiles.py defines the
profiles). A complete Lean file is header + informal_prefix + formal_statement + proof.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

DATA_DIR = Path(__file__).parent
ROW_KEYS = ("name", "split", "header", "informal_prefix", "formal_statement", "source")


@dataclass(frozen=True)
class Variant:
    """A shipped dataset: its file under data/, the setup profile (Lean + Mathlib) its
    statements were written for, and the named environment that supplies the header, if any."""

    file: str
    profile: str
    description: str
    env: Optional[str] = None
    adapt: Optional[str] = None  # a function in data.adapters that turns the file's rows into rows


# The one place that says which Lean environment each shipped dataset needs. Profile names are
# lean_env.install.profiles's: "bundled" is the bundled Lean 4.35 with the logic prelude (no Mathlib).
VARIANTS: dict[str, Variant] = {
    "minif2f-deepseek": Variant("minif2f/deepseek_v1.5.jsonl", "deepseek-v1.5",
                                "miniF2F as DeepSeek-Prover-V1.5 ships it (Lean v4.9.0-rc1, DeepSeek's Mathlib fork)"),
    "minif2f-v4.24": Variant("minif2f/lean4_v4.24.jsonl", "minif2f-v4.24",
                             "yangky11/miniF2F-lean4 port (Lean v4.24.0, Mathlib v4.24.0), with 2026 test-split fixes"),
    "minif2f-goedel-v2": Variant("minif2f/goedel_prover_v2_test.jsonl", "deepseek-v1.5",
                                 "miniF2F test as Goedel-Prover-V2 scores it: DeepSeek's with 14 statements corrected "
                                 "(Lean v4.9.0-rc1, DeepSeek's Mathlib fork)"),
    "minif2f-kimina": Variant("minif2f/kimina_preview_test.jsonl", "kimina-v4.15",
                              "miniF2F test as Kimina-Prover Preview scores it, rebuilt from its published proofs "
                              "(225 statements known, 19 best-guessed; Lean v4.15.0, Mathlib v4.15.0)"),
    "proofnet": Variant("proofnet/deepseek_v1.5.jsonl", "deepseek-v1.5",
                        "ProofNet as DeepSeek-Prover-V1.5 ships it (185 valid + 186 test; repeated names made unique)",
                        adapt="proofnet_rows"),
    "putnambench": Variant("putnambench/putnambench_lean4.jsonl", "putnambench-v4.27",
                           "PutnamBench, 672 problems; the published answer filled in where one is asked for "
                           "(Lean v4.27.0, Mathlib v4.27.0)", adapt="putnam_given_rows"),
    "putnambench-find": Variant("putnambench/putnambench_lean4.jsonl", "putnambench-v4.27",
                                "PutnamBench's 346 answer-asking problems with the answer to be found: the model "
                                "writes the answer and the proof; Lean must prove the answer equals the published one",
                                adapt="putnam_find_rows"),
    "logic": Variant("logic/v1.jsonl", "bundled",
                     "generated propositional/first-order logic theorems over the logic prelude", env="logic"),
    "logic-v2": Variant("logic/v2.jsonl", "bundled",
                        "theorems found by proof search (intuitionistic propositional and first-order logic with "
                        "equality) over the logic prelude; splits train / test-iid / test-ood", env="logic"),
    "logic-handwritten": Variant("logic/handwritten.jsonl", "bundled",
                                 "24 logic theorems written by hand, phrased unlike either generator (a check "
                                 "that a logic-trained model is not a schema-matcher)", env="logic"),
}
ALIASES = {"minif2f": "minif2f-deepseek"}
# The setup profile each named Lean environment (a row's `env`) runs on.
ENV_PROFILES = {"logic": "bundled"}


def variant(name: str) -> Variant:
    key = ALIASES.get(name, name)
    if key not in VARIANTS:
        raise KeyError(f"unknown dataset {name!r}; shipped: {', '.join(list(VARIANTS) + list(ALIASES))}")
    return VARIANTS[key]


def parse_field_map(specs: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """`["formal_statement=statement", ...]` (our field = their column) as a dict."""
    if specs is None:
        return {}
    if isinstance(specs, Mapping):
        return dict(specs)
    out = {}
    for spec in specs:
        ours, sep, theirs = spec.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ValueError(f"bad field mapping {spec!r}: write OURS=THEIRS, e.g. formal_statement=statement")
        out[ours.strip()] = theirs.strip()
    return out


_DECL_START = re.compile(r"^(?:@\[[^\]]*\]\s*)?(?:theorem|lemma)\s", re.MULTILINE)
_DOC_BEFORE = re.compile(r"(/--.*?-/\s*)$", re.DOTALL)


def split_statement(text: str) -> tuple[str, str, str]:
    """(header, informal_prefix, formal_statement) from a statement that carries its own
    imports and doc comment (as Goedel-V2's and Kimina's files do); the statement keeps the
    `:= by` and loses a trailing `sorry`, the shape DeepSeek's rows have."""
    text = re.sub(r"\s*\bsorry\s*$", "", text)
    if text.rstrip().endswith("by"):
        text = text.rstrip() + "\n"
    m = _DECL_START.search(text)
    if not m or m.start() == 0:
        return "", "", text
    before, statement = text[: m.start()], text[m.start():]
    doc = _DOC_BEFORE.search(before)
    if doc:
        return before[: doc.start()], doc.group(1), statement
    return before, "", statement


def normalize_row(raw: Mapping[str, Any], fields: Mapping[str, str] | None = None, split: Optional[str] = None,
                  source: str = "", profile: str = "") -> dict:
    """One uniform row from a raw record; `fields` maps our names to the record's columns."""
    fields = fields or {}
    row = {k: v for k, v in raw.items() if k not in fields.values()}
    for ours, theirs in fields.items():
        if theirs not in raw:
            raise ValueError(f"field mapping {ours}={theirs}: the data has no column {theirs!r} "
                             f"(columns: {', '.join(raw)})")
        row[ours] = raw[theirs]
    statement = row.get("formal_statement")
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"a row has no formal_statement (columns: {', '.join(raw)}); "
                         "map one with --field formal_statement=COLUMN")
    from lean_env.soundness.limits import check_fields
    from lean_env.tasks_io import resolve_header

    check_fields({k: row[k] for k in ("name", "header", "env", "formal_statement", "informal_prefix") if k in row})
    if row.get("header") is None and row.get("env"):
        # the row format `prover check` reads: a named environment supplies the header, which
        # (like the shipped logic rows') is context for Lean, not text the model is shown
        row["header"] = resolve_header(row)
        row.setdefault("prompt_header", "")
        profile = profile or ENV_PROFILES.get(row["env"], "")
    if not row.get("header"):
        header, informal, statement = split_statement(statement)
        row["header"] = header
        row["informal_prefix"] = row.get("informal_prefix") or informal
        row["formal_statement"] = statement
    if not row.get("name"):
        from lean_env.soundness.statement import theorem_name

        row["name"] = theorem_name(row["formal_statement"])
    row.setdefault("informal_prefix", "")
    row["informal_prefix"] = row["informal_prefix"] or ""
    row["split"] = row.get("split") or split or ""
    row["source"] = row.get("source") or source
    if profile:
        row.setdefault("profile", profile)
    return row


def read_jsonl(path: Path | str) -> list[dict]:
    """The rows of a jsonl file, read as `prover check` reads them (lean_env.tasks_io.read_rows:
    bytes, so a bad line is named by its number). ValueError naming every bad line."""
    from lean_env.tasks_io import read_rows

    rows, bad = [], []
    for lineno, row, error in read_rows(Path(path)):
        if error is None and not isinstance(row, dict):
            error = f"line {lineno}: each line must be a JSON object"
        if error is not None:
            bad.append(str(error))
        else:
            rows.append(row)
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise ValueError(f"{path}: {len(bad)} unusable line(s): " + "; ".join(bad[:3]) + more)
    return rows


_read_jsonl = read_jsonl


def _load_shipped(name: str) -> list[dict]:
    v = variant(name)
    rows = _read_jsonl(DATA_DIR / v.file)
    if v.adapt:
        from data import adapters

        rows = getattr(adapters, v.adapt)(rows)
    key = ALIASES.get(name, name)
    return _shipped_rows(rows, v, f"data/{v.file} ({key})")


def _load_generated(spec: str, n: int, seed: int) -> list[dict]:
    """logic-v2 train theorems at generator scale (data.logic_v2.train_set), as shipped rows."""
    from data.logic_v2.train_set import train_rows

    return _shipped_rows(train_rows(n, seed), VARIANTS["logic-v2"], spec)


def _shipped_rows(rows: list[dict], v: Variant, source: str) -> list[dict]:
    out = []
    for raw in rows:
        row = dict(raw)
        if v.env:
            from lean_env.running.environments import header_for

            row["header"] = header_for(v.env)
            row["prompt_header"] = ""  # the model sees the theorem, not the whole prelude
        out.append(normalize_row(row, source=source, profile=v.profile))
    return out


def _load_with_datasets(spec: str, hf_split: Optional[str]) -> tuple[list[dict], str]:
    path = Path(spec)
    if spec.endswith((".json", ".jsonl")) and not path.exists():
        raise FileNotFoundError(f"{spec} does not exist")
    if path.is_file() and spec.endswith(".jsonl"):  # the one row reader check, eval and training share
        return read_jsonl(path), str(path)
    import datasets

    if path.exists():
        ds = datasets.load_dataset("json", data_files=str(path), split="train")
        return [dict(r) for r in ds], str(path)
    ds = datasets.load_dataset(spec, split=hf_split or "train")
    return [dict(r) for r in ds], f"{spec}:{hf_split or 'train'}"


def load(spec: str, split: Optional[str] = None, fields: Iterable[str] | Mapping[str, str] | None = None,
         limit: Optional[int] = None, hf_split: Optional[str] = None, profile: str = "") -> list[dict]:
    """Rows of a dataset. `spec`: a shipped name (minif2f, minif2f-v4.24, logic), logic-v2 train
    theorems at generator scale (`logic-v2-train:N[:seed=S]`, data.logic_v2.train_set), a local
    .jsonl/.json file, or a Hugging Face hub id (`hf_split` picks the hub split, default train).
    `split` keeps rows whose `split` field equals it; `fields` maps our field names to the
    data's columns ("formal_statement=statement"); `profile` labels rows of outside data with
    the setup profile they need."""
    from data.logic_v2.train_set import parse_spec

    field_map = parse_field_map(fields)
    generated = parse_spec(spec)
    if (ALIASES.get(spec, spec) in VARIANTS or generated) and field_map:
        raise ValueError("field mappings apply to outside data, not to shipped datasets")
    if generated:
        rows = _load_generated(spec, *generated)
    elif ALIASES.get(spec, spec) in VARIANTS:
        rows = _load_shipped(spec)
    else:
        raw_rows, source = _load_with_datasets(spec, hf_split)
        rows = []
        for i, r in enumerate(raw_rows, 1):
            try:
                rows.append(normalize_row(r, field_map, split=hf_split, source=source, profile=profile))
            except ValueError as exc:
                raise ValueError(f"{source}: row {i}: {exc}") from None
    if split is not None:
        known = sorted({r["split"] for r in rows})
        rows = [r for r in rows if r["split"] == split]
        if not rows and split not in known:
            raise ValueError(f"no rows with split {split!r} in {spec}; splits: {', '.join(known) or '(none)'}")
    return rows[:limit] if limit is not None else rows
