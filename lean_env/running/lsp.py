"""A small JSON-RPC 2.0 client for the Language Server Protocol over a child's stdio.

Why our own: we need only requests, notifications and a reader thread that routes server
notifications to whoever waits for them (`lean --server` speaks plain LSP framing:
`Content-Length: N\\r\\n\\r\\n<json>`). A dead or silent server must never hang the caller, so
every wait has a deadline and the reader wakes all waiters when the stream ends.
"""
from __future__ import annotations

import json
import threading
import time
from typing import IO, Any, Callable, Optional


class LspError(RuntimeError):
    """The server answered a request with an error, or the connection is gone."""


class LspClosed(LspError):
    """The server's output ended (it exited or was killed)."""


class LspTimeout(LspError):
    """No answer before the deadline."""


MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # one LSP message (all diagnostics of a document) at most


def encode(msg: dict) -> bytes:
    body = json.dumps(msg, ensure_ascii=False).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: IO[bytes]) -> Optional[dict]:
    """One framed message from `stream`, or None at end of stream. Raises ValueError on bad framing."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            if length is None:
                continue  # stray blank line between messages
            break
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None or length > MAX_MESSAGE_BYTES:
        return None  # a server that floods us is treated as gone: the check ends as a crash
    body = bytearray()
    while len(body) < length:
        chunk = stream.read(length - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body.decode("utf-8"))


class LspClient:
    """Send requests/notifications on `writer`; a daemon thread reads `reader`.

    Notifications go to `on_notification(method, params)` (called on the reader thread, under
    the client's condition lock, so it can update shared state and `notify_all` wakes waiters).
    """

    def __init__(self, reader: IO[bytes], writer: IO[bytes],
                 on_notification: Callable[[str, Any], None] | None = None):
        self._reader, self._writer = reader, writer
        self._on_notification = on_notification or (lambda m, p: None)
        self.cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._next_id = 0
        self._responses: dict[int, dict] = {}
        self.closed = False
        self.close_reason = ""
        self._thread = threading.Thread(target=self._read_loop, name="lsp-reader", daemon=True)
        self._thread.start()

    # -- reading ------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        reason = "the server closed its output"
        try:
            while True:
                msg = read_message(self._reader)
                if msg is None:
                    break
                with self.cond:
                    if "id" in msg and ("result" in msg or "error" in msg) and "method" not in msg:
                        self._responses[msg["id"]] = msg
                    elif "method" in msg and "id" in msg:
                        self._answer_server_request(msg)
                    elif "method" in msg:
                        self._on_notification(msg["method"], msg.get("params"))
                    self.cond.notify_all()
        except (ValueError, OSError) as exc:  # garbage on the wire or a broken pipe
            reason = f"the server's output could not be read: {type(exc).__name__}: {exc}"
        finally:
            with self.cond:
                self.closed = True
                self.close_reason = reason
                self.cond.notify_all()

    def _answer_server_request(self, msg: dict) -> None:
        # Server->client requests (e.g. client/registerCapability): acknowledge with null.
        threading.Thread(target=self._send, args=({"jsonrpc": "2.0", "id": msg["id"], "result": None},),
                         daemon=True).start()

    # -- writing ------------------------------------------------------------------------------
    def _send(self, msg: dict) -> None:
        data = encode(msg)
        with self._write_lock:
            try:
                self._writer.write(data)
                self._writer.flush()
            except (BrokenPipeError, ValueError, OSError) as exc:
                raise LspClosed(f"cannot write to the server: {exc}") from exc

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request_async(self, method: str, params: Any) -> int:
        with self.cond:
            self._next_id += 1
            rid = self._next_id
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return rid

    def has_response(self, rid: int) -> bool:
        """Call with `cond` held (e.g. inside a `wait_for` predicate)."""
        return rid in self._responses

    def wait_response(self, rid: int, deadline: float) -> Any:
        with self.cond:
            while rid not in self._responses:
                if self.closed:
                    raise LspClosed(self.close_reason)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LspTimeout(f"no response to request {rid}")
                self.cond.wait(left)
            msg = self._responses.pop(rid)
        if "error" in msg:
            err = msg["error"] or {}
            raise LspError(f"{err.get('message', 'error')} (code {err.get('code')})")
        return msg.get("result")

    def request(self, method: str, params: Any, timeout: float) -> Any:
        return self.wait_response(self.request_async(method, params), time.monotonic() + timeout)

    def wait_for(self, predicate: Callable[[], bool], deadline: float) -> bool:
        """Wait (holding `cond`) until predicate() is true; False on deadline. Raises LspClosed."""
        with self.cond:
            while not predicate():
                if self.closed:
                    raise LspClosed(self.close_reason)
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True
