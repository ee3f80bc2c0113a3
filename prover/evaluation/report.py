"""The report of an eval: summary.md (pass@k by split, by problem source where the names follow
a known scheme (MiniF2F's, the logic benchmarks'), attempts by status, time) and passk.png."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Optional

from prover.evaluation.store import CURVE, SUMMARY, write_atomic
from search.metrics import mean_pass_at_k, pass_at_k_curve
from search.records import ProblemRecord

# MiniF2F problem families, from the name prefix (order matters: longest first).
_SOURCES = (("mathd_", "mathd"), ("amc", "amc"), ("aime", "aime"), ("imo", "imo"), ("induction", "induction"),
            ("algebra", "algebra"), ("numbertheory", "numbertheory"))


def source_category(name: str) -> Optional[str]:
    """mathd / amc / aime / imo / induction / algebra / numbertheory for MiniF2F names;
    logic_l1..3 for the logic benchmark, logic2_prop / logic2_fol ... for logic-v2; else None.
    Only these naming schemes say where a problem comes from: a user's theorem names do not, so
    their first word is no category."""
    for prefix, cat in _SOURCES:
        if name.startswith(prefix):
            return cat
    m = re.match(r"(logic_l\d+|logic2_[a-z]+)_", name)
    return m.group(1) if m else None


def ks_to_report(k: int) -> list[int]:
    """1, 2, 4, ... up to k, and k itself."""
    ks, x = [], 1
    while x < k:
        ks.append(x)
        x *= 2
    return ks + [k]


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
    if any(r.split for r in records):  # rows without a split are "(none)" only beside named ones
        for r in records:
            by_split.setdefault(r.split or "(none)", []).append(r)
    by_source: dict[str, list[ProblemRecord]] = {}
    categories = {r.name: source_category(r.name) for r in records}
    if records and all(categories.values()):  # a known naming scheme; else no such section
        for r in sorted(records, key=lambda r: categories[r.name]):
            by_source.setdefault(categories[r.name], []).append(r)
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
        *(["## By problem source", "", *_table(by_source, ks, "source"), ""] if by_source else []),
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


def write_report(out_dir: Path, records: list[ProblemRecord], card: dict) -> str:
    text = summary_markdown(records, card)
    write_atomic(out_dir / SUMMARY, text + "\n")
    plot_curve(records, card["k"], out_dir / CURVE, f"{card['dataset']} — {card['model']}")
    return text
