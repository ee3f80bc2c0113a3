"""Best-of-n on the logic benchmark: a scripted policy writes the text, the real Checker on the
bundled Lean decides. Search stops a problem at its first proof and keeps Lean's verdicts."""
import pytest

import data
from prover.policies import SamplingParams
from prover.policies.scripted import ScriptedPolicy
from search.best_of_n import BestOfN
from search.metrics import record_pass_at_k

pytestmark = pytest.mark.lean


@pytest.fixture(scope="module")
def rows():
    by_name = {r["name"]: r for r in data.load("logic")}
    a = next(r for r in by_name.values() if r["schema"] == "or_inl")  # p → Or p q
    b = next(r for r in by_name.values() if r["schema"] == "absurd" and r["level"] == 1)
    return a, b


def test_stops_at_first_proof_with_real_verdicts(rows, cli_checker):
    a, b = rows
    wrong_a = " fun h => Or.inr h"  # the wrong disjunct: Lean rejects it
    policy = ScriptedPolicy({
        a["name"]: [wrong_a, "", a["proof"], wrong_a, a["proof"]],  # "" : nothing to check
        b["name"]: [" fun ha hna => hna"],  # never right
    })
    search = BestOfN(policy, cli_checker, SamplingParams(max_tokens=64, seed=0), budget=6, round_size=2)
    records = {r.name: r for r in search.run([a, b])}

    ra, rb = records[a["name"]], records[b["name"]]
    # a: attempts 0 (rejected), 1 (empty: not checked), 2 (proved) — then it stopped
    assert ra.solved and ra.stopped_early
    assert ra.first_success_index == 2 and ra.n == 3 and ra.c == 1
    assert ra.attempts[0].verdict["status"] == "rejected" and ra.attempts[0].verdict["errors"]
    assert ra.attempts[1].verdict is None and ra.attempts[1].why_not.startswith("empty proof")
    assert ra.attempts[2].verdict["ok"] and ra.attempts[2].verdict["status"] == "proved"
    assert ra.attempts[2].task == {"proof": a["proof"]}
    assert [record_pass_at_k(ra, k) for k in (1, 2, 3, 6)] == [0.0, 0.0, 1.0, 1.0]

    # b: the whole budget, every attempt checked and rejected by Lean
    assert not rb.solved and not rb.stopped_early and rb.n == 6
    assert all(x.verdict["status"] == "rejected" for x in rb.attempts)
    assert record_pass_at_k(rb, 6) == 0.0

    # the policy never drew more than the budget for a problem, in rounds of at most 2
    drawn = {}
    for prompts, params in policy.calls:
        assert params.n <= 2 and params.stop == ("```",)  # continuation prompts end at the closing fence
        for p in prompts:
            key = a["name"] if a["name"] in p else b["name"]
            drawn[key] = drawn.get(key, 0) + params.n
    assert drawn[b["name"]] == 6 and 3 <= drawn[a["name"]] <= 6
    assert search.stats.checks >= 2 + 6 and search.stats.generation_seconds >= 0


def test_full_budget_without_early_stop(rows, cli_checker):
    a, _ = rows
    policy = ScriptedPolicy({a["name"]: [a["proof"], " fun h => Or.inr h"]})
    search = BestOfN(policy, cli_checker, SamplingParams(max_tokens=64), budget=4, stop_at_first=False)
    r = search.search(a)
    assert (r.n, r.c, r.stopped_early) == (4, 2, False)
    assert [x.ok for x in r.attempts] == [True, False, True, False]
    assert record_pass_at_k(r, 1) == pytest.approx(0.5)



def test_verdicts_are_reported_while_the_next_round_generates(rows, cli_checker):
    """A check that finishes while the model generates the next round is reported then, not
    when that round ends: the second generate call waits for the first round's verdict."""
    import threading

    a, _ = rows
    reported = threading.Event()
    seen_during_generation = []

    class SlowSecondRound(ScriptedPolicy):
        def generate(self, prompts, params):
            if self.calls:  # the second round: a slow model, and Lean finishing meanwhile
                seen_during_generation.append(reported.wait(timeout=30))
            return super().generate(prompts, params)

    policy = SlowSecondRound({a["name"]: [" fun h => Or.inr h", a["proof"]]})
    order = []
    search = BestOfN(policy, cli_checker, SamplingParams(max_tokens=64), budget=2, round_size=1,
                     on_attempt=lambda row, attempt: (order.append(attempt), reported.set()))
    record = search.search(a)
    assert seen_during_generation == [True]
    assert record.solved and record.first_success_index == 1 and search.stats.checks == 2
    assert [id(x) for x in order] == [id(x) for x in record.attempts]  # reported once each, in index order


def test_attempts_are_reported_in_index_order_whatever_order_checks_finish(rows, cli_checker):
    """A caller numbers attempts by the order they are reported: a slow first check must not let
    the second be reported as attempt 1."""
    a, b = rows
    slow = "".join(f"\n  have h{i} : True := trivial" for i in range(200))
    policy = ScriptedPolicy({b["name"]: [" by" + slow + "\n  exact fun ha hna => hna", "", " fun ha hna => hna"]})
    order = []
    search = BestOfN(policy, cli_checker, SamplingParams(max_tokens=64), budget=3, round_size=3,
                     on_attempt=lambda row, attempt: order.append(attempt))
    record = search.search(b)
    assert [id(x) for x in order] == [id(x) for x in record.attempts] and len(order) == 3
