"""Differential test: the pooled `server` backend must agree with the `cli` reference on
(ok, status) for every task of a generated set of logic proofs, right and wrong, on the real
bundled Lean. Right proofs come from the logic benchmark's generator (data/logic.py); wrong
ones are mutations of them (borrowed proofs, sorry, truncation, holes, renamed or altered
statements in code blocks)."""
import random

import pytest

from lean_env.checker import Checker
from lean_env.running.environments import logic_header
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask

logic = pytest.importorskip("data.logic")

pytestmark = pytest.mark.lean

N_TASKS = 200


def mutate(row: dict, other: dict, rng: random.Random, header: str) -> ProofTask:
    fs, proof = row["formal_statement"], row["proof"]
    kind = rng.choice(["borrow", "sorry", "truncate", "hole", "rename", "restate", "swap_args"])
    if kind == "borrow":
        return ProofTask(fs, header=header, proof=other["proof"])
    if kind == "sorry":
        return ProofTask(fs, header=header, proof=" sorry")
    if kind == "truncate":
        return ProofTask(fs, header=header, proof=proof[: max(2, len(proof) // 2)])
    if kind == "hole":
        words = proof.split(" ")
        words[-1] = "_"
        return ProofTask(fs, header=header, proof=" ".join(words))
    if kind == "rename":
        name = row["name"]
        return ProofTask(fs, header=header, code=fs.replace(name, name + "_x", 1) + proof, name=name)
    if kind == "restate":  # prove the other theorem's statement under this name
        code = other["formal_statement"].replace(other["name"], row["name"], 1) + other["proof"]
        return ProofTask(fs, header=header, code=code, name=row["name"])
    # swap the first two arguments of the first application in the proof
    words = proof.split(" ")
    idx = [i for i, w in enumerate(words) if w and w[0].isalpha()]
    if len(idx) >= 2:
        i, j = idx[-2], idx[-1]
        words[i], words[j] = words[j], words[i]
    return ProofTask(fs, header=header, proof=" ".join(words))


def generated_tasks(n: int = N_TASKS, seed: int = 7) -> list[ProofTask]:
    header = logic_header()
    rows = logic.generate(n, seed=seed)
    rng = random.Random(seed)
    tasks = []
    for i, row in enumerate(rows):
        if i % 2 == 0:
            tasks.append(ProofTask(row["formal_statement"], header=header, proof=row["proof"]))
        else:
            tasks.append(mutate(row, rows[(i * 7 + 3) % len(rows)], rng, header))
    return tasks


def test_server_agrees_with_cli_on_generated_proofs():
    tasks = generated_tasks()
    assert len(tasks) == N_TASKS
    s = Settings.from_env(timeout=60)
    with Checker("server", s, workers=2) as server:
        got = server.check_many(tasks)
    with Checker("cli", s, workers=2) as cli:
        want = cli.check_many(tasks)
    disagreements = [(t.name, g.ok, g.status, w.ok, w.status, g.reasons[:1], w.reasons[:1])
                     for t, g, w in zip(tasks, got, want) if (g.ok, g.status) != (w.ok, w.status)]
    assert disagreements == []
    oks = sum(v.ok for v in want)
    # the set exercises both sides: every right proof is proved, most mutations are not
    assert N_TASKS // 2 <= oks < N_TASKS * 0.8, oks
    assert {v.status for v in want} >= {"proved", "rejected"}
