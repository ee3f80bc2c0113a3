"""The REPL wire protocol against every real transcript of leanprover-community/repl v4.24.0
(../shared/data/repl_transcripts: 71 pairs, 216 exchanges). No REPL needed."""
from tests.shared_data import SHARED
import io
import json
from pathlib import Path

import pytest

from lean_env.soundness.judge import RunOutcome
from lean_env.running.repl_protocol import (CommandResponse, ErrorResponse, ProtocolError, ResponseReader,
                                    TacticResponse, command, encode_request, parse_response,
                                    split_requests, split_responses, tactic, unpickle_env)

ROOT = SHARED / "repl_transcripts"
PAIRS = sorted(ROOT.glob("*/*.in"))

pytestmark = pytest.mark.skipif(not PAIRS, reason="the REPL transcripts (../shared/data) are not here")


def load(pair: Path):
    requests = [json.loads(r) for r in split_requests(pair.read_text(encoding="utf-8"))]
    out = pair.with_name(pair.name[:-3] + ".expected.out").read_text(encoding="utf-8")
    return requests, split_responses(out), out


def exchanges(name: str):
    requests, responses, _ = load(ROOT / name)
    return list(zip(requests, [parse_response(json.loads(r)) for r in responses]))


def test_all_transcripts_are_present():
    assert len(PAIRS) == 71
    assert sum(len(load(p)[0]) for p in PAIRS) == 216


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_response_parses_to_the_shape_its_request_asks_for(pair):
    requests, responses, raw = load(pair)
    assert len(requests) == len(responses)
    # the streaming reader sees the same responses as splitting the captured stdout
    reader = ResponseReader(io.BytesIO(raw.encode("utf-8")))
    streamed = []
    while (r := reader.next()) is not None:
        streamed.append(r)
    assert len(streamed) == len(responses)
    for req, text, got in zip(requests, responses, streamed):
        resp = parse_response(json.loads(text))
        assert type(resp) is type(got)
        if isinstance(resp, ErrorResponse):
            assert resp.message
            continue
        if "cmd" in req or "path" in req or "unpickleEnvFrom" in req or ("pickleTo" in req and "env" in req):
            assert isinstance(resp, CommandResponse), (req, text)
            for m in resp.messages:  # the REPL writes "info"/"trace"; the judge reads "information"
                assert m.severity in ("error", "warning", "information")
                assert m.line is None or m.line >= 0
            assert len(resp.sorries) == len(resp.raw.get("sorries", []))
        else:
            assert isinstance(resp, TacticResponse), (req, text)
            assert resp.proof_status  # every tactic-style response in v4.24 says how the proof stands
            if resp.completed:
                assert resp.goals == [] and not resp.errors and resp.proof_status == "Completed"


def test_trap_elaboration_error_with_no_goals_is_not_complete():
    (_, first), (_, second) = exchanges("core/invalid_tactic.in")
    assert isinstance(second, TacticResponse)
    assert second.goals == []  # looks finished...
    assert second.errors and "my_fake_premise" in second.errors[0].text
    assert second.proof_status == "Incomplete: contains sorry"
    assert not second.completed  # ...but is not


def test_trap_kernel_failure_with_no_goals_is_not_complete():
    last = exchanges("core/self_proof_apply_check.in")[-1][1]
    assert isinstance(last, TacticResponse)
    assert last.goals == [] and not last.errors and not last.sorries
    assert last.proof_status.startswith("Error: kernel type check failed")
    assert not last.completed


def test_completed_tactic_proof_is_recognised():
    done = [r for _, r in exchanges("mathlib/exact.in") if isinstance(r, TacticResponse) and r.completed]
    assert done and done[0].proof_status == "Completed"
    assert any("Try this" in m.text and m.severity == "information" for m in done[0].messages)
    failed = [r for _, r in exchanges("mathlib/exact.in") if isinstance(r, ErrorResponse)]
    assert failed and failed[0].message.startswith("Lean error:")


def test_sorry_is_counted_from_the_sorries_list_and_the_warning():
    _, resp = exchanges("core/invalid_tactic.in")[0]
    assert isinstance(resp, CommandResponse) and resp.env == 0
    assert len(resp.sorries) == 1 and resp.sorries[0].line == 1
    assert resp.messages[0].severity == "warning" and "sorry" in resp.messages[0].text
    # the judge sees them in RunOutcome.sorries
    assert RunOutcome(resp.messages, 0.0, sorries=resp.sorries).sorries


def test_unknown_environment_is_an_error_response():
    resp = exchanges("core/unknown_environment.in")[-1][1]
    assert isinstance(resp, ErrorResponse) and resp.message == "Unknown environment."


def test_null_end_position_is_allowed():
    resps = [r for _, r in exchanges("core/unfinished_tactic_block.in")]
    msgs = [m for r in resps if isinstance(r, CommandResponse) for m in r.messages]
    assert any(m.end_line is None for m in msgs)


def test_requests_are_one_line_and_a_blank_line():
    req = command("theorem x : True := by\n  trivial", env=3)
    data = encode_request(req)
    assert data.endswith(b"\n\n") and data.count(b"\n") == 2
    assert split_requests(data.decode()) == [json.dumps(req, ensure_ascii=False)]
    assert json.loads(encode_request(tactic("exact h", 7)))["proofState"] == 7
    assert json.loads(encode_request(unpickle_env("a.olean"))) == {"unpickleEnvFrom": "a.olean"}


def test_garbage_and_truncated_output_are_protocol_errors():
    with pytest.raises(ProtocolError):
        ResponseReader(io.BytesIO(b"PANIC: not json\n\n")).next()
    with pytest.raises(ProtocolError):
        ResponseReader(io.BytesIO(b'{"env":\n 1')).next()  # ended mid-response
    with pytest.raises(ProtocolError):
        parse_response({"what": 1})
    assert ResponseReader(io.BytesIO(b"")).next() is None
