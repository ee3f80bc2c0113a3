"""The REPL backend sends a check as separate commands: the header (once per worker), the target
axiom with the candidate, then the checker's own lines in the environment the candidate left.
So nothing the candidate leaves open (`... in`, an unclosed comment) can reach the checks. The
stand-in REPL only carries the protocol; it decides no verdict."""
import shlex
import sys
from pathlib import Path

from lean_env.running.backends.repl import ReplBackend, ReplWorker
from lean_env.soundness.checkfile import compose
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask

FAKE = Path(__file__).parent / "fakes" / "fake_repl.py"


def test_candidate_and_checks_are_separate_commands(monkeypatch):
    sent = []
    original = ReplWorker.request

    def recording(self, req, deadline):
        resp = original(self, req, deadline)
        sent.append((req, getattr(resp, "env", None)))
        return resp

    monkeypatch.setattr(ReplWorker, "request", recording)
    settings = Settings.from_env(repl=f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE))}", workers=1, timeout=20.0)
    b = ReplBackend(settings)
    try:
        cf = compose(ProofTask("theorem t (p : Prop) (h : p) : p :=", header="import Mathlib\n",
                               proof=" h\nopen Nat in"))
        b.run(cf, 20.0)
    finally:
        b.close()
    (header, header_env), (candidate, cand_env), (checks, _) = sent
    assert header["cmd"] == "import Mathlib\n" and "env" not in header
    assert candidate["env"] == header_env
    assert candidate["cmd"].startswith(f"axiom {cf.target_axiom}") and candidate["cmd"].endswith("open Nat in")
    assert checks["env"] == cand_env
    assert cf.check_theorem in checks["cmd"] and "open Nat" not in checks["cmd"]
    assert candidate["cmd"] + "\n" + checks["cmd"] == cf.body


def test_a_response_over_the_cap_is_a_protocol_error_not_a_memory_hog():
    import io

    import pytest

    from lean_env.running.repl_protocol import ProtocolError, ResponseReader

    ok = ResponseReader(io.BytesIO(b'{"env": 0}\n\n'), max_bytes=100)
    assert ok.next().env == 0
    flood = ResponseReader(io.BytesIO(b'{"env": 0, "x": "' + b"y" * 10_000 + b'"}\n\n'), max_bytes=100)
    with pytest.raises(ProtocolError, match="size limit"):
        flood.next()
