"""Figures for issue 16 (faults) and 17 item 1 (own jsonl): run against any checkout with
`cd CHECKOUT && PYTHONPATH=$PWD python benchmarks/faults.py` (the checkout's code, this script), so a before/after pair is two commands.

- resume: an eval of 8 logic problems (k=4, seed 7) with a seeded stand-in model (the reference
  proof with probability 1/4; real Lean verdicts, cli backend), unbroken and killed after m
  problems then resumed under another batching: solved count and pass@1 of each.
- limits: what a row with a nonsense timeout becomes.
- torn: records kept from a results file with a corrupt middle line; a rerun on an empty run card.
- own jsonl: the same 5 logic rows as a user's .jsonl with `env: logic`, vs `eval logic`.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

# the checkout's packages first: this directory's search.py must not shadow the `search` package
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import data  # noqa: E402
from lean_env.checker import Checker  # noqa: E402
from lean_env.running.settings import Settings  # noqa: E402
from prover.evaluation import RESULTS, EvalSpec, read_records, run_eval  # noqa: E402
from prover.policies.scripted import DicePolicy  # noqa: E402
from search.metrics import mean_pass_at_k  # noqa: E402

ROWS = data.load("logic", split="test", limit=8)
PROOFS = {r["name"]: r["proof"] for r in ROWS}


class Killed(BaseException):
    pass


def evaluate(out: Path, checker, batch: int, round_size: int, kill_after=None, dataset="logic", limit=8):
    spec = EvalSpec(dataset=dataset, split="test" if dataset == "logic" else None, limit=limit, k=4, model="dice",
                    seed=7, batch_problems=batch, round_size=round_size)
    seen = []

    def on_record(r):
        seen.append(r)
        if kill_after and len(seen) == kill_after:
            raise Killed

    try:
        return run_eval(spec, out, policy=DicePolicy(PROOFS), checker=checker, on_record=on_record)
    except Killed:
        return None


def describe(out: Path) -> str:
    recs = read_records(out / RESULTS)
    statuses = sorted({(a.verdict or {}).get("status", "none") for r in recs for a in r.attempts})
    samples = sorted((r.name, [a.completion for a in r.attempts]) for r in recs)
    digest = hashlib.sha256(json.dumps(samples).encode()).hexdigest()[:8]
    return (f"solved {sum(r.solved for r in recs)}/{len(recs)}, pass@1 {100 * mean_pass_at_k(recs, 1):.1f}%, "
            f"statuses {statuses}, samples {digest}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    with Checker("cli", Settings.from_env(timeout=60), workers=2) as checker:
        print("== resume (kill after m problems, resume with other batching)")
        evaluate(tmp / "unbroken", checker, 8, 2)
        ref = describe(tmp / "unbroken")
        print(f"unbroken (batch 8, round 2): {ref}")
        for (b1, r1), m, (b2, r2) in [((8, 2), 1, (1, 1)), ((3, 4), 3, (8, 3)), ((2, 1), 6, (5, 4))]:
            out = tmp / f"kill{m}"
            evaluate(out, checker, b1, r1, kill_after=m)
            evaluate(out, checker, b2, r2)
            got = describe(out)
            print(f"killed after {m} (batch {b1}, round {r1}), resumed (batch {b2}, round {r2}): {got}"
                  f"{'  == unbroken' if got == ref else '  DIFFERS'}")

        print("== limits (a row's timeout)")
        from lean_env.tasks_io import task_from_row

        row = {"formal_statement": "theorem t (p : Prop) (hp : p) : p :=", "proof": " hp", "env": "logic"}
        for value in (float("nan"), float("inf"), 1e12, True, -1):
            try:
                task = task_from_row({**row, "timeout": value})
            except ValueError as exc:
                print(f"timeout {value!r}: refused: {exc}")
                continue
            v = checker.check(task)
            print(f"timeout {value!r}: accepted as {task.timeout!r}; verdict {v.status} {v.reasons[:1]}")

        print("== torn files")
        path = tmp / "torn.jsonl"
        rec = lambda n: json.dumps({"name": n, "split": "test", "budget": 1, "attempts": []})  # noqa: E731
        path.write_text("\n".join([rec("a"), '{"name": "b", "att', rec("c"), rec("d")]) + "\n")
        kept = [r.name for r in read_records(path)]
        print(f"results with a corrupt line 2 of 4: kept {kept}; file now {len(path.read_text().splitlines())} lines")
        out = tmp / "emptycard"
        out.mkdir()
        (out / "run_card.json").write_text("")
        (out / RESULTS).write_text(rec(ROWS[0]["name"]) + "\n")
        try:
            evaluate(out, checker, 8, 2)
            print("empty run_card.json + results: rerun ran")
        except Exception as exc:
            print(f"empty run_card.json + results: {type(exc).__name__}: {str(exc)[:160]}")

        print("== own jsonl with env rows vs eval logic (same 5 rows, same model)")
        raw = [json.loads(x) for x in (Path(data.__file__).parent / "logic" / "v1.jsonl").read_text().splitlines()]
        mine = tmp / "mine.jsonl"
        mine.write_text("".join(json.dumps(r) + "\n" for r in [r for r in raw if r["split"] == "test"][:5]))
        for label, ds in (("eval logic", "logic"), ("eval mine.jsonl", str(mine))):
            try:
                res = evaluate(tmp / f"own-{label.split()[1]}", checker, 8, 2, dataset=ds, limit=5)
                print(f"{label}: {describe(res.out_dir)}, max_tokens {res.card['sampling']['max_tokens']}")
            except Exception as exc:
                print(f"{label}: {type(exc).__name__}: {str(exc)[:160]}")


if __name__ == "__main__":
    main()
