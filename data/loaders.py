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
    splits: tuple[str, ...] = ()  # the rows' `split` values (tests/test_eval_splits.py holds them to the data)


# The one place that says which Lean environment each shipped dataset needs. Profile names are
# lean_env.install.profiles's: "bundled" is the bundled Lean 4.35 with the logic prelude (no Mathlib).
VARIANTS: dict[str, Variant] = {
    "minif2f-deepseek": Variant("minif2f/deepseek_v1.5.jsonl", "deepseek-v1.5",
                                "miniF2F as DeepSeek-Prover-V1.5 ships it (Lean v4.9.0-rc1, DeepSeek's Mathlib fork)",
                                splits=("valid", "test")),
    "minif2f-v4.24": Variant("minif2f/lean4_v4.24.jsonl", "minif2f-v4.24",
                             "yangky11/miniF2F-lean4 port (Lean v4.24.0, Mathlib v4.24.0), with 2026 test-split fixes",
                             splits=("valid", "test")),
    "minif2f-goedel-v2": Variant("minif2f/goedel_prover_v2_test.jsonl", "deepseek-v1.5",
                                 "miniF2F test as Goedel-Prover-V2 scores it: DeepSeek's with 14 statements corrected "
                                 "(Lean v4.9.0-rc1, DeepSeek's Mathlib fork)", splits=("test",)),
    "minif2f-kimina": Variant("minif2f/kimina_preview_test.jsonl", "kimina-v4.15",
                              "miniF2F test as Kimina-Prover Preview scores it, rebuilt from its published proofs "
                              "(225 statements known, 19 best-guessed; Lean v4.15.0, Mathlib v4.15.0)", splits=("test",)),
    "proofnet": Variant("proofnet/deepseek_v1.5.jsonl", "deepseek-v1.5",
                        "ProofNet as DeepSeek-Prover-V1.5 ships it (185 valid + 186 test; repeated names made unique)",
                        adapt="proofnet_rows", splits=("valid", "test")),
    "putnambench": Variant("putnambench/putnambench_lean4.jsonl", "putnambench-v4.27",
                           "PutnamBench, 672 problems; the published answer filled in where one is asked for "
                           "(Lean v4.27.0, Mathlib v4.27.0)", adapt="putnam_given_rows",
                           splits=("test",)),
    "putnambench-find": Variant("putnambench/putnambench_lean4.jsonl", "putnambench-v4.27",
                                "PutnamBench's 346 answer-asking problems with the answer to be found: the model "
                                "writes the answer and the proof; Lean must prove the answer equals the published one",
                                adapt="putnam_find_rows", splits=("test",)),
    "logic": Variant("logic/v1.jsonl", "bundled",
                     "generated propositional/first-order logic theorems over the logic prelude", env="logic",
                     splits=("train", "valid", "test")),
    "logic-v2": Variant("logic/v2.jsonl", "bundled",
                        "theorems found by proof search (intuitionistic propositional and first-order logic with "
                        "equality) over the logic prelude; splits train / test-iid / test-ood", env="logic",
                        splits=("train", "test-iid", "test-ood")),
    "logic-handwritten": Variant("logic/handwritten.jsonl", "bundled",
                                 "24 logic theorems written by hand, phrased unlike either generator (a check "
                                 "that a logic-trained model is not a schema-matcher)", env="logic",
                                 splits=("handwritten",)),
    "logic-handwritten-2": Variant("logic/handwritten_2.jsonl", "bundled",
                                   "14 more logic theorems written by hand later, in other phrasings again (never "
                                   "used to choose a recipe)", env="logic", splits=("handwritten",)),
}
ALIASES = {"minif2f": "minif2f-deepseek"}
# The setup profile each named Lean environment (a row's `env`) runs on.
ENV_PROFILES = {"logic": "bundled"}


def dataset_names() -> list[str]:
    """Every name `load` accepts for a shipped dataset (aliases first), for help texts and errors."""
    return list(ALIASES) + list(VARIANTS)


def splits_help() -> str:
    """`logic: train|valid|test; ...`: each shipped dataset's splits, from VARIANTS."""
    return "; ".join(f"{name}: {'|'.join(v.splits)}" for name, v in VARIANTS.items() if v.splits)


def variant(name: str) -> Variant:
    key = ALIASES.get(name, name)
    if key not in VARIANTS:
        raise KeyError(f"unknown dataset {name!r}; shipped: {', '.join(dataset_names())}")
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


def _unusable(path, bad: list[str]) -> ValueError:
    more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
    return ValueError(f"{path}: {len(bad)} unusable line(s): " + "; ".join(bad[:3]) + more)


def numbered_jsonl(path: Path | str, bad: Optional[list[str]] = None) -> list[tuple[int, dict]]:
    """(line number, row) of a jsonl file, read as `prover check` reads them
    (lean_env.tasks_io.read_rows: bytes, so a bad line is named by its number). A bad line is
    appended to `bad` (`line N: why`) when it is given, else ValueError names every bad line."""
    from lean_env.tasks_io import read_rows

    rows, errors = [], []
    for lineno, row, error in read_rows(Path(path)):
        if error is None and not isinstance(row, dict):
            error = f"line {lineno}: each line must be a JSON object"
        if error is not None:
            errors.append(str(error))
        else:
            rows.append((lineno, row))
    if errors and bad is None:
        raise _unusable(path, errors)
    if bad is not None:
        bad.extend(errors)
    return rows


def read_jsonl(path: Path | str) -> list[dict]:
    """The rows of a jsonl file (numbered_jsonl); ValueError naming every bad line."""
    return [row for _, row in numbered_jsonl(path)]


_read_jsonl = read_jsonl


def _load_shipped(name: str) -> list[dict]:
    v = variant(name)
    rows = _read_jsonl(DATA_DIR / v.file)
    if v.adapt:
        from data import adapters

        rows = getattr(adapters, v.adapt)(rows)
    key = ALIASES.get(name, name)
    return _shipped_rows(rows, v, f"data/{v.file} ({key})")


def _load_generated(spec: str, n: int, seed: int, large: bool = False) -> list[dict]:
    """logic-v2 train theorems at generator scale (data.logic_v2.train_set), as shipped rows."""
    from data.logic_v2.train_set import train_rows

    return _shipped_rows(train_rows(n, seed, large=large), VARIANTS["logic-v2"], spec)


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


def _load_with_datasets(spec: str, hf_split: Optional[str],
                        bad: Optional[list[str]] = None) -> tuple[list[tuple[str, dict]], str]:
    """([(where, raw row)], source): `where` is `line N` in a jsonl file, else `row N`."""
    path = Path(spec)
    if spec.endswith((".json", ".jsonl")) and not path.exists():
        raise FileNotFoundError(f"{spec} does not exist")
    if path.is_file() and spec.endswith(".jsonl"):  # the one row reader check, eval and training share
        return [(f"line {n}", row) for n, row in numbered_jsonl(path, bad)], str(path)
    import datasets

    if path.exists():
        ds = datasets.load_dataset("json", data_files=str(path), split="train")
        return [(f"row {i}", dict(r)) for i, r in enumerate(ds, 1)], str(path)
    ds = datasets.load_dataset(spec, split=hf_split or "train")
    return [(f"row {i}", dict(r)) for i, r in enumerate(ds, 1)], f"{spec}:{hf_split or 'train'}"


def load(spec: str, split: Optional[str] = None, fields: Iterable[str] | Mapping[str, str] | None = None,
         limit: Optional[int] = None, hf_split: Optional[str] = None, profile: str = "",
         skipped: Optional[list[str]] = None) -> list[dict]:
    """Rows of a dataset. `spec`: a shipped name (minif2f, minif2f-v4.24, logic), logic-v2 train
    theorems at generator scale (`logic-v2-train:N[:seed=S]`, data.logic_v2.train_set), a local
    .jsonl/.json file, or a Hugging Face hub id (`hf_split` picks the hub split, default train).
    `split` keeps rows whose `split` field equals it; `fields` maps our field names to the
    data's columns ("formal_statement=statement"); `profile` labels rows of outside data with
    the setup profile they need. With `skipped` (a list), an unusable row of outside data is
    named there (`FILE: line N: why`) and left out, as `prover check` does, instead of refusing
    the whole file; ValueError still when no row is usable."""
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
        bad: Optional[list[str]] = None if skipped is None else []
        raw_rows, source = _load_with_datasets(spec, hf_split, bad)
        rows = []
        for where, r in raw_rows:
            try:
                rows.append(normalize_row(r, field_map, split=hf_split, source=source, profile=profile))
            except ValueError as exc:
                if bad is None:
                    raise ValueError(f"{source}: {where}: {exc}") from None
                bad.append(f"{where}: {exc}")
        if bad:
            if not rows:
                raise _unusable(source, bad)
            skipped.extend(f"{source}: {why}" for why in bad)
    if split is not None:
        known = sorted({r["split"] for r in rows})
        rows = [r for r in rows if r["split"] == split]
        if not rows and split not in known:
            raise ValueError(f"no rows with split {split!r} in {spec}; splits: {', '.join(known) or '(none)'}")
    return rows[:limit] if limit is not None else rows
