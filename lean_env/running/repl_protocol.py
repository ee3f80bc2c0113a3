"""The leanprover-community/repl wire protocol: requests, the response stream, response shapes.

Requests are single-line JSON objects followed by a blank line (the REPL joins the lines of a
block after stripping each one, so a raw newline inside Lean code would corrupt it; JSON
escapes them). Responses are JSON values, often pretty-printed over several lines, each
followed by a blank line; JSON strings never hold a raw newline, so a blank line always ends
a response. Shapes (see ../shared/data/repl_transcripts/SOURCE.md):

- command / file / unpickleEnv / pickle env:  {"env", "messages"?, "sorries"?, "tactics"?, "infotree"?}
- tactic / pickle or unpickle proof state:    {"proofState", "goals", "proofStatus", "messages"?, "sorries"?, "traces"?}
- error:                                      {"message"}

Older REPLs differ (the deepseek-v1.5 profile's xinhjBrant/repl@3334a97b, Lean v4.9): tactic
responses have no `proofStatus` (it came with repl#63: `proof_status` is then ""), and the fork
adds fields such as `ast` to command responses; fields not named above are kept in `raw` only.

Tactic-mode trap: `goals == []` does not mean the proof is done. An elaboration error comes
back as goals [] + an error message + "Incomplete: contains sorry"; a self-referential proof
as goals [] + "Error: kernel type check failed". Only `proofStatus == "Completed"` with no
error message is a finished tactic proof, and even that is a search signal: the verdict on
a whole proof always comes from lean_env.soundness.judge on a full check.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, Optional, Union

from lean_env.soundness.messages import messages_from_repl, sorries_from_repl
from lean_env.soundness.verdict import Message

COMPLETED = "Completed"


class ProtocolError(ValueError):
    """The REPL wrote something that is not a response of a known shape."""


# -- requests -------------------------------------------------------------------------------
def command(cmd: str, env: Optional[int] = None, all_tactics: bool = False, root_goals: bool = False) -> dict:
    req: dict = {"cmd": cmd}
    if env is not None:
        req["env"] = env
    if all_tactics:
        req["allTactics"] = True
    if root_goals:
        req["rootGoals"] = True
    return req


def tactic(text: str, proof_state: int) -> dict:
    return {"tactic": text, "proofState": proof_state}


def pickle_env(path: str, env: int) -> dict:
    return {"pickleTo": path, "env": env}


def pickle_proof_state(path: str, proof_state: int) -> dict:
    return {"pickleTo": path, "proofState": proof_state}


def unpickle_env(path: str) -> dict:
    return {"unpickleEnvFrom": path}


def unpickle_proof_state(path: str, env: Optional[int] = None) -> dict:
    req: dict = {"unpickleProofStateFrom": path}
    if env is not None:
        req["env"] = env
    return req


def encode_request(req: dict) -> bytes:
    """One physical line (newlines in code become JSON escapes) and the blank line that ends it."""
    line = json.dumps(req, ensure_ascii=False)
    assert "\n" not in line
    return (line + "\n\n").encode("utf-8")


def split_requests(text: str) -> list[str]:
    """Cut a stream of requests the way the REPL reads stdin: blocks at blank lines, each block's
    lines joined after stripping trailing whitespace; blocks starting with `#` or `--` skipped."""
    out, block = [], []
    for line in text.split("\n") + [""]:
        line = line.rstrip()
        if line:
            block.append(line)
            continue
        if block:
            joined = "".join(block)
            if not (joined.startswith("#") or joined.startswith("--")):
                out.append(joined)
            block = []
    return out


# -- responses ------------------------------------------------------------------------------
@dataclass
class CommandResponse:
    env: int
    messages: list[Message]
    sorries: list[Message]  # one warning per `sorry`, with its goal
    tactics: list[dict] = field(default_factory=list)
    raw: dict = field(default_factory=dict)


@dataclass
class TacticResponse:
    proof_state: int
    goals: list[str]
    proof_status: str  # "" if the REPL did not say (older REPLs)
    messages: list[Message]
    sorries: list[Message]
    traces: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "error"]

    @property
    def reports_status(self) -> bool:
        """Whether the REPL said how the proof stands (REPLs before repl#63 do not)."""
        return bool(self.proof_status)

    @property
    def completed(self) -> bool:
        """Lean's own word that this tactic proof is finished: kernel-checked, no sorry, no error.
        `goals == []` alone is NOT enough (see the module docstring)."""
        return self.proof_status == COMPLETED and not self.goals and not self.errors and not self.sorries


@dataclass
class ErrorResponse:
    message: str
    raw: dict = field(default_factory=dict)


Response = Union[CommandResponse, TacticResponse, ErrorResponse]


def parse_response(obj: object) -> Response:
    if not isinstance(obj, dict):
        raise ProtocolError(f"a REPL response must be a JSON object, got {type(obj).__name__}")
    if "proofState" in obj and "goals" in obj:
        goals = obj.get("goals")
        if not isinstance(goals, list) or not isinstance(obj["proofState"], int):
            raise ProtocolError("malformed tactic response")
        return TacticResponse(obj["proofState"], [str(g) for g in goals], str(obj.get("proofStatus", "")),
                              messages_from_repl(obj), sorries_from_repl(obj),
                              [str(t) for t in obj.get("traces", []) or []], obj)
    if "env" in obj:
        if not isinstance(obj["env"], int):
            raise ProtocolError("malformed command response: `env` is not a number")
        return CommandResponse(obj["env"], messages_from_repl(obj), sorries_from_repl(obj),
                               list(obj.get("tactics", []) or []), obj)
    if set(obj) == {"message"}:
        return ErrorResponse(str(obj["message"]), obj)
    raise ProtocolError(f"unknown REPL response shape with keys {sorted(obj)}")


def split_responses(text: str) -> list[str]:
    """The responses in a captured REPL stdout (each ends with a blank line)."""
    return [r for r in text.split("\n\n") if r.strip()]


class ResponseReader:
    """Reads responses from the REPL's stdout. `next()` returns the parsed response, None at end
    of stream; raises ProtocolError for output that is not a response (garbage, a crash dump)."""

    def __init__(self, stream: IO[bytes], max_bytes: int = 64 * 1024 * 1024):
        self.stream, self.max_bytes = stream, max_bytes

    def next_text(self) -> Optional[str]:
        lines: list[bytes] = []
        size = 0
        while True:
            line = self.stream.readline(self.max_bytes - size + 1)  # never buffers past the cap
            if not line:  # end of stream
                if lines:
                    raise ProtocolError("the REPL's output ended in the middle of a response: "
                                        + b"".join(lines).decode("utf-8", "replace")[:300])
                return None
            if line.strip():
                lines.append(line)
                size += len(line)
                if size > self.max_bytes:
                    raise ProtocolError("a REPL response exceeded the size limit")
            elif lines:
                return b"".join(lines).decode("utf-8", "replace")

    def next(self) -> Optional[Response]:
        text = self.next_text()
        if text is None:
            return None
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            raise ProtocolError(f"the REPL wrote something that is not JSON: {text.strip()[:300]}") from None
        return parse_response(obj)
