"""The allowlist over the 663 real model-written miniF2F proofs (../shared/data/proofs: Kimina-
Prover-Preview, DeepSeek-Prover-V2): extraction as `prover eval` does it, then the Checker's
precheck (compose + the allowlist over the composed file). Prints how many are refused, by rule,
and the precheck's CPU time (best of --repeat), so a stricter allowlist shows its cost and any
new refusal of real proofs.

    python benchmarks/allowlist_real_proofs.py [--repeat 5] [--refused OUT.json]

Run it from another checkout (PYTHONPATH=that checkout) to compare before/after on one machine.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from lean_env.checker import precheck
from lean_env.soundness.statement import find_declaration, strip_comments
from protocol.extract import code_task
from tests.shared_data import SHARED

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--refused", type=Path, help="write the refused theorem names here (json)")
    args = ap.parse_args()
    files = [SHARED / "proofs" / "kimina_preview" / "minif2f_test_solved.jsonl",
             SHARED / "proofs" / "deepseek_prover_v2" / "minif2f_solutions.jsonl"]
    rows = [json.loads(line) for f in files for line in f.open(encoding="utf-8")]
    targets = {r["name"]: r for r in map(json.loads, (ROOT / "data/minif2f/deepseek_v1.5.jsonl").open())}
    tasks = []
    for r in rows:
        span = find_declaration(r["proof_text"], r["name"])
        statement = strip_comments(r["proof_text"])[span[0] : span[1]].rstrip() + " := by\n"
        e = code_task(r["proof_text"], statement, targets[r["name"]]["header"])
        if not e.ok:
            raise SystemExit(f"{r['name']}: extraction failed: {e.reason}")
        tasks.append(e.task)
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.process_time()
        verdicts = [precheck(t) for t in tasks]
        best = min(best, time.process_time() - t0)
    refused = {t.name: v.reasons for t, v in zip(tasks, verdicts) if v is not None}
    rules = Counter(r.split("'")[1] for rs in refused.values() for r in rs if r.startswith("refused by policy"))
    print(f"{len(tasks)} proofs, {len(refused)} refused {dict(rules)}; precheck CPU best of {args.repeat}: "
          f"{best:.3f} s ({best / len(tasks) * 1000:.2f} ms/proof)")
    if args.refused:
        args.refused.write_text(json.dumps(sorted(refused)))


if __name__ == "__main__":
    main()
