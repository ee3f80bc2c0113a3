"""Reading a hostile program's output without ever holding more than a cap of it: a finished
run's pipes, one line of a long-lived process, and the tail of its stderr."""
from __future__ import annotations

import os
import selectors
import threading
import time


def feed(stream, data: bytes) -> None:
    try:
        stream.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except (OSError, ValueError):
            pass


def collect(caps: dict[int, int], deadline: float) -> tuple[dict[int, bytearray], bool, set[int]]:
    """Read pipes (fd -> cap) until EOF, the deadline, or a cap: never more than the cap of
    each stream is held. Returns (bytes by fd, timed out, fds whose output was cut)."""
    bufs = {fd: bytearray() for fd in caps}
    sel = selectors.DefaultSelector()
    for fd in caps:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    timed_out, cut = False, set()
    try:
        while sel.get_map() and not cut:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(left):
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                buf = bufs[key.fd]
                room = caps[key.fd] - len(buf)
                buf += chunk[:room]
                if len(chunk) > room:
                    cut.add(key.fd)
    finally:
        sel.close()
    return bufs, timed_out, cut


def read_line_capped(stream, max_bytes: int) -> tuple[bytes, bool]:
    """One line (with its b"\\n") of a long-lived process's binary stream, keeping at most
    `max_bytes` of it: the rest of an overlong line is read and dropped, never buffered.
    Returns (line, cut); b"" at end of stream."""
    kept = bytearray()
    cut = False
    while True:
        part = stream.readline(65536)
        if not part:
            return bytes(kept), cut
        room = max_bytes - len(kept)
        if len(part) > room:
            cut = True
            kept += part[:max(room, 0)]
        else:
            kept += part
        if part.endswith(b"\n"):
            return bytes(kept), cut


class StderrTail:
    """Drains a long-lived process's stderr in a thread (so the pipe never fills and blocks it)
    and keeps the last bytes, to say why the process died."""

    def __init__(self, stream, name: str = "stderr-drain", keep: int = 2000):
        self._tail, self._keep = b"", keep
        threading.Thread(target=self._drain, args=(stream,), daemon=True, name=name).start()

    def _drain(self, stream) -> None:
        try:
            for chunk in iter(lambda: stream.read1(4096), b""):
                self._tail = (self._tail + chunk)[-self._keep:]
        except (ValueError, OSError):
            pass

    def hint(self) -> str:
        """` (stderr: ...)` with the last lines, or "" when the process wrote nothing."""
        tail = self._tail.decode("utf-8", "replace").strip()
        return f" (stderr: {tail[-300:]})" if tail else ""
