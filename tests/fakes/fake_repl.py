"""A stand-in for leanprover-community/repl that speaks its wire protocol, for testing pool
mechanics (crash, hang, garbage output, memory growth) where no real REPL is installed.

It never checks anything and never claims a proof correct: every proof command gets an
error message saying so, and it never emits `information` messages (so no `#print axioms`
answer either), which the judge needs before it can say ok. Behaviour is chosen by markers
in the command text:

  FAKE_CRASH    exit without answering          FAKE_HANG     never answer
  FAKE_GARBAGE  print text that is not JSON      FAKE_GROW     keep 64 MB more memory
  FAKE_SORRY    report a `sorry` (sorries + warning)

`--replay FILE.expected.out` instead answers each request with the next recorded response
of a real REPL transcript, byte for byte (to test the response reader on real output).
"""
from __future__ import annotations

import json
import os
import sys
import time

_hoard: list[bytearray] = []


def requests():
    block: list[str] = []
    for line in sys.stdin:
        line = line.rstrip()
        if line:
            block.append(line)
            continue
        if block:
            joined = "".join(block)
            block = []
            if joined.startswith("#") or joined.startswith("--"):
                continue
            yield joined
    if block:
        yield "".join(block)


def say(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n\n")
    sys.stdout.flush()


def replay(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        recorded = [r for r in fh.read().split("\n\n") if r.strip()]
    for i, _ in enumerate(requests()):
        if i >= len(recorded):
            return
        sys.stdout.write(recorded[i].strip("\n") + "\n\n")
        sys.stdout.flush()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--replay":
        return replay(sys.argv[2])
    envs = 0
    states = 0
    for raw in requests():
        try:
            req = json.loads(raw)
        except json.JSONDecodeError:
            sys.stderr.write("Could not parse JSON\n")
            sys.exit(1)
        if "tactic" in req:
            states += 1
            say({"proofState": states, "goals": ["⊢ stand-in"], "proofStatus": "Incomplete: open goals remain"})
            continue
        cmd = str(req.get("cmd", ""))
        if "FAKE_CRASH" in cmd:
            os._exit(3)
        if "FAKE_HANG" in cmd:
            while True:
                time.sleep(3600)
        if "FAKE_GARBAGE" in cmd:
            sys.stdout.write("PANIC at the stand-in: this is not JSON\n\n")
            sys.stdout.flush()
            continue
        if "FAKE_GROW" in cmd:
            _hoard.append(bytearray(os.urandom(1)) * (64 * 1024 * 1024))
        if "env" in req and not 0 <= req["env"] < envs:
            say({"message": "Unknown environment."})
            continue
        resp: dict = {"env": envs}
        envs += 1
        if "env" in req:  # a proof: the stand-in cannot check it
            resp["messages"] = [{"severity": "error", "pos": {"line": 1, "column": 0}, "endPos": None,
                                 "data": "stand-in REPL: it does not check proofs"}]
            if "FAKE_SORRY" in cmd:
                resp["sorries"] = [{"proofState": 0, "pos": {"line": 1, "column": 0},
                                    "goal": "⊢ stand-in", "endPos": {"line": 1, "column": 5}}]
                resp["messages"].append({"severity": "warning", "pos": {"line": 1, "column": 0},
                                         "endPos": {"line": 1, "column": 5}, "data": "declaration uses 'sorry'"})
        say(resp)


if __name__ == "__main__":
    main()
