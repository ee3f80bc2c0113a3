"""`prover check --checker server --workers N`: the same output contract as the cli backend;
with no --checker the fastest installed one (the server, where a Lean exists) is used."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lean_env.checker import default_backend
from lean_env.running.settings import Settings

pytestmark = pytest.mark.lean

PROVER = [sys.executable, "-m", "prover.cli"]
GOOD = {"name": "and_swap", "env": "logic", "formal_statement": "theorem and_swap (p q : Prop) (h : And p q) : And q p :=",
        "proof": " ⟨h.2, h.1⟩"}
BAD = dict(GOOD, proof=" h")
SORRY = dict(GOOD, proof=" sorry")


def run_check(path: Path, *args):
    res = subprocess.run(PROVER + ["check", str(path), *args], capture_output=True, text=True, timeout=300)
    return res.returncode, [json.loads(x) for x in res.stdout.splitlines()], res.stderr


def test_server_backend_same_output_as_cli(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [GOOD, BAD, SORRY, GOOD]) + "\n")
    rc_s, out_s, err_s = run_check(path, "--checker", "server", "--workers", "2")
    rc_c, out_c, _ = run_check(path, "--checker", "cli", "--workers", "2")
    assert rc_s == rc_c == 1, err_s
    key = lambda v: (v["line"], v["name"], v["ok"], v["status"], v["sorries"], v["axioms"], len(v["errors"]))  # noqa: E731
    assert sorted(map(key, out_s)) == sorted(map(key, out_c))  # verdicts stream as they finish; `line` orders them
    assert {v["backend"] for v in out_s} == {"server"}


def test_default_backend_is_the_fastest_installed():
    assert default_backend(Settings.from_env(backend="", repl="")) == "server"
    assert default_backend(Settings.from_env(backend="cli")) == "cli"
    fake = Path(__file__).parent / "fakes" / "fake_repl.py"
    assert default_backend(Settings.from_env(backend="", repl=str(fake))) == "repl"
