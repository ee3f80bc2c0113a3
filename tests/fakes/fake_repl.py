"""A stand-in for leanprover-community/repl that speaks its wire protocol, for testing pool
mechanics (crash, hang, garbage output, memory growth) where no real REPL is installed.

It never checks anything and never claims a proof correct: every proof command gets an
error message saying so, and it never emits `information` messages (so no `#print axioms`
answer either), which the judge needs before it can say ok. Behaviour is chosen by markers
in the command text:

  FAKE_CRASH    exit without answering          FAKE_HANG     never answer
  FAKE_GARBAGE  print text that is not JSON      FAKE_GROW     keep 64 MB more memory
  FAKE_SORRY    report a `sorry` (sorries + warning)
  a statement ending in "\n  sorry" (tactic_env's opening) gets a sorry with a proof state
  FAKE_NO_GOALS (in a tactic) answer with no goals left, and a proofStatus that is not "Completed"

`--replay FILE.expected.out` instead answers each request with the next recorded response
of a real REPL transcript, byte for byte (to test the response reader on real output).

Flags that make it behave like the REPL of the deepseek-v1.5 profile (xinhjBrant/repl@3334a97b,
Lean v4.9.0-rc1), so the tests see what a user of that profile would:

  --block-buffered    never flush stdout: answers wait in the buffer, as with the old REPL's
                      `IO.println ""` on a pipe (C stdio is fully buffered on a pipe and line
                      buffered on a terminal; Python's sys.stdout behaves the same way)
  --no-proof-status   tactic responses carry no `proofStatus` (it came with REPL PR #63);
                      with --replay, the recorded field is removed
  --ast               command responses carry the fork's extra `ast` field
  --v4.9              all three

  --slow-import S     answer the first header command (one without "env") after S seconds, like
                      a REPL importing Mathlib from a cold disk
"""
from __future__ import annotations

import json
import os
import sys
import time

_hoard: list[bytearray] = []
FLAGS: set[str] = set()


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


def write(text: str) -> None:
    sys.stdout.write(text)
    if "--block-buffered" not in FLAGS:
        sys.stdout.flush()


def say(obj) -> None:
    if "--no-proof-status" in FLAGS:
        obj.pop("proofStatus", None)
    if "--ast" in FLAGS and "env" in obj:
        obj["ast"] = [{"kind": "stand-in", "range": [0, 0]}]
    write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n\n")


def replay(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        recorded = [r for r in fh.read().split("\n\n") if r.strip()]
    for i, _ in enumerate(requests()):
        if i >= len(recorded):
            return
        if "--no-proof-status" in FLAGS and '"proofStatus"' in recorded[i]:
            say(json.loads(recorded[i]))
        else:
            write(recorded[i].strip("\n") + "\n\n")


def main() -> None:
    args = sys.argv[1:]
    FLAGS.update(a for a in args if a.startswith("--") and a != "--replay")
    if "--v4.9" in FLAGS:
        FLAGS.update({"--block-buffered", "--no-proof-status", "--ast"})
    if "--replay" in args:
        return replay(args[args.index("--replay") + 1])
    slow_import = float(args[args.index("--slow-import") + 1]) if "--slow-import" in args else 0.0
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
            if "FAKE_NO_GOALS" in str(req["tactic"]):  # looks finished; never "Completed"
                say({"proofState": states, "goals": [], "proofStatus": "Error: Goal not assigned"})
            else:
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
        if "env" not in req and slow_import:
            time.sleep(slow_import)
            slow_import = 0.0
        if "env" in req and not 0 <= req["env"] < envs:
            say({"message": "Unknown environment."})
            continue
        resp: dict = {"env": envs}
        envs += 1
        if "env" in req and cmd.rstrip().endswith("\n  sorry") and "FAKE_" not in cmd:
            # a statement opened for tactic mode (what search.tactic_env sends): one proof state
            states += 1
            resp["sorries"] = [{"proofState": states, "pos": {"line": 2, "column": 2},
                                "endPos": {"line": 2, "column": 7}, "goal": "⊢ stand-in"}]
            resp["messages"] = [{"severity": "warning", "pos": {"line": 1, "column": 8},
                                 "endPos": {"line": 1, "column": 9}, "data": "declaration uses 'sorry'"}]
        elif "env" in req:  # a proof: the stand-in cannot check it
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
