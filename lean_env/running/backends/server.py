"""`server` backend: a pool of sandboxed `lean --server` processes (LSP), one open document each.

Each check replaces the document's text with header + body. Lean's incremental elaboration
keeps every command snapshot before the first changed character, so a header that stays the
same is elaborated once per worker; only the body is re-elaborated. A check is complete when
Lean answers `textDocument/waitForDiagnostics` for the new version, `$/lean/fileProgress`
reports nothing processing for it, and its diagnostics have arrived.

`-Dserver.reportDelayMs=0`: the server otherwise batches progress and diagnostics every
200 ms, which would cap a worker at ~5 checks/s whatever the proof.

Measured on Lean 4.35 (bundled): a check still costs Lean CPU in proportion to the commands in
the header text (~13 ms CPU per check with a 7-line prelude; one parse-heavy header command
adds ~140 ms; sending only the changed range instead of the whole text made no difference).
Compiling a big header to an .olean that the document imports would remove that cost.
"""
from __future__ import annotations

import subprocess
import time
from typing import Any, Optional

from lean_env.running.backends.cli import lean_argv
from lean_env.soundness.checkfile import CheckFile
from lean_env.soundness.judge import RunOutcome
from lean_env.running.lsp import LspClient, LspClosed, LspError, LspTimeout
from lean_env.soundness.messages import from_lsp_diagnostic, shift
from lean_env.running.pool import Pool, process_tree_pids, process_tree_rss_mb
from lean_env.running.sandbox_limits import Limits
from lean_env.running.sandbox import Sandbox
from lean_env.running.capped_output import StderrTail
from lean_env.running.settings import Settings
from lean_env.running.toolchain import Toolchain, find_toolchain

_FATAL_PROGRESS = 2  # LeanFileProgressKind.fatalError: the file worker died
_LONG_LIVED_CPU_S = 10**7  # a warm worker's CPU rlimit: per-check time is bounded by our wall clock


class ServerWorker:
    """One `lean --server` with one document. Not thread-safe: the pool lends it to one caller."""

    def __init__(self, toolchain: Toolchain, settings: Settings, start_timeout: float = 60.0):
        self.settings = settings
        limits = Limits(timeout_s=settings.timeout, address_space_mb=settings.address_space_mb,
                        memory_mb=settings.memory_mb, cpu_s=_LONG_LIVED_CPU_S)
        self.sandbox = Sandbox(limits, readable=toolchain.readable_paths())
        self.scratch = self.sandbox.scratch_dir()
        self.uri = "file://" + str(self.scratch / "Check.lean")
        self.checks = 0
        self.version = 0
        self.text: Optional[str] = None  # what the document holds now
        self._lines: list[str] = []
        self._broken: Optional[str] = None  # why this worker must not be used again
        self._diags: dict[int, list[dict]] = {}
        self._idle_versions: set[int] = set()
        self._fatal_versions: set[int] = set()
        argv = lean_argv(toolchain, settings, "--server", "-Dserver.reportDelayMs=0")
        self.proc = self.sandbox.popen(argv, self.scratch, toolchain.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
        self._stderr = StderrTail(self.proc.stderr, "lean-server-stderr")
        self.client = LspClient(self.proc.stdout, self.proc.stdin, self._on_notification)
        try:
            self.client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}},
                                timeout=start_timeout)
            self.client.notify("initialized", {})
        except LspError as exc:
            self.close()
            raise RuntimeError(f"`lean --server` did not start: {exc}{self._stderr.hint()}") from exc

    # -- notifications (reader thread, client lock held) ---------------------------------------
    def _on_notification(self, method: str, params: Any) -> None:
        if not isinstance(params, dict):
            return
        if method == "textDocument/publishDiagnostics" and params.get("uri") == self.uri:
            v = params.get("version")
            if isinstance(v, int) and v == self.version:
                self._diags[v] = list(params.get("diagnostics") or [])
        elif method == "$/lean/fileProgress":
            doc = params.get("textDocument") or {}
            v = doc.get("version")
            if doc.get("uri") != self.uri or v != self.version:
                return
            processing = params.get("processing") or []
            if any(p.get("kind") == _FATAL_PROGRESS for p in processing):
                self._fatal_versions.add(v)
            elif not processing:
                self._idle_versions.add(v)

    # -- the Worker protocol ------------------------------------------------------------------
    def alive(self) -> bool:
        return self._broken is None and self.proc.poll() is None and not self.client.closed

    def has_header(self, header: str) -> bool:
        return self.text is not None and self.text.startswith(header)

    def rss_mb(self) -> float:
        return process_tree_rss_mb(self.proc.pid)

    def pids(self) -> list[int]:
        return process_tree_pids(self.proc.pid) if self.proc.poll() is None else []

    def _load(self, text: str, deadline: float) -> int:
        """Put `text` in the document and wait until Lean has fully processed it. Returns the
        version. Raises LspTimeout / LspClosed / LspError, or RuntimeError if the file worker died."""
        with self.client.cond:
            self.version += 1
            v = self.version
            self._diags.clear()
            self._idle_versions.clear()
            self._fatal_versions.clear()
        if self.text is None:
            self.client.notify("textDocument/didOpen", {"textDocument": {
                "uri": self.uri, "languageId": "lean4", "version": v, "text": text}})
        else:
            self.client.notify("textDocument/didChange", {"textDocument": {"uri": self.uri, "version": v},
                                                          "contentChanges": [{"text": text}]})
        self.text, self._lines = text, text.split("\n")
        rid = self.client.request_async("textDocument/waitForDiagnostics", {"uri": self.uri, "version": v})
        ok = self.client.wait_for(lambda: self.client.has_response(rid) or v in self._fatal_versions, deadline)
        if not ok:
            raise LspTimeout("Lean did not finish the file")
        if v in self._fatal_versions:
            raise RuntimeError("the Lean server's file worker crashed (stack overflow, memory limit or a Lean bug)")
        self.client.wait_response(rid, deadline)
        # waitForDiagnostics answers after the last diagnostics; the progress report may lag a bit
        done = self.client.wait_for(lambda: v in self._idle_versions or v in self._fatal_versions, deadline)
        if not done:
            raise LspTimeout("Lean did not report the file as processed")
        if v in self._fatal_versions:
            raise RuntimeError("the Lean server's file worker crashed (stack overflow, memory limit or a Lean bug)")
        return v

    def run(self, cf: CheckFile, timeout: float) -> RunOutcome:
        start = time.monotonic()
        self.checks += 1
        if not self.alive():
            return RunOutcome([], 0.0, crash=f"the Lean server had stopped before the check{self._stderr.hint()}")
        try:
            v = self._load(cf.text, start + timeout)
        except LspTimeout:
            self._kill("timed out")
            return RunOutcome([], time.monotonic() - start, timed_out=True)
        except (LspClosed, LspError, RuntimeError) as exc:
            self._kill(str(exc))
            return RunOutcome([], time.monotonic() - start, crash=f"{exc}{self._stderr.hint()}")
        with self.client.cond:
            diags = list(self._diags.get(v, []))
        messages = [from_lsp_diagnostic(d, self._lines) for d in diags]
        return RunOutcome(shift(messages, cf.header_lines), time.monotonic() - start)

    def goals_at(self, cf: CheckFile, positions: list[tuple[int, int]], timeout: float) -> list[Optional[list[str]]]:
        """Goals at each body position (1-based line, 0-based column) after elaborating `cf` once
        (why once: every state of a finished proof for one elaboration, not one per tactic): the
        tactic goals there (`$/lean/plainGoal`), else the expected type of the term there
        (`$/lean/plainTermGoal`); None where Lean has no goal."""
        deadline = time.monotonic() + timeout
        if self.text != cf.text:
            self._load(cf.text, deadline)
        out: list[Optional[list[str]]] = []
        for line, column in positions:
            lsp_line = cf.header_lines + line - 1
            text_line = self._lines[lsp_line] if 0 <= lsp_line < len(self._lines) else ""
            character = len(text_line[:column].encode("utf-16-le")) // 2
            pos = {"textDocument": {"uri": self.uri}, "position": {"line": lsp_line, "character": character}}
            res = self.client.request("$/lean/plainGoal", pos, max(0.1, deadline - time.monotonic()))
            if res and res.get("goals") is not None:
                out.append(list(res["goals"]))
                continue
            res = self.client.request("$/lean/plainTermGoal", pos, max(0.1, deadline - time.monotonic()))
            out.append([res["goal"]] if res and res.get("goal") is not None else None)
        return out

    def _kill(self, why: str) -> None:
        self._broken = why
        Sandbox.kill(self.proc)

    def close(self) -> None:
        if self.proc.poll() is None and self._broken is None and not self.client.closed:
            try:  # polite first: Lean ends its file workers itself
                self.client.request("shutdown", None, timeout=2)
                self.client.notify("exit", None)
                self.proc.wait(timeout=2)
            except (LspError, subprocess.TimeoutExpired):
                pass
        self._broken = self._broken or "closed"
        Sandbox.dispose(self.proc, self.scratch)  # process group + PID namespace: no orphans either way


class ServerBackend:
    name = "server"

    def __init__(self, settings: Settings | None = None, toolchain: Toolchain | None = None):
        self.settings = settings or Settings.from_env()
        self.toolchain = toolchain or find_toolchain(self.settings)
        self.isolation = Sandbox(readable=self.toolchain.readable_paths()).method
        s = self.settings
        self.pool = Pool(lambda: ServerWorker(self.toolchain, s), size=max(1, s.workers),
                         max_checks=s.recycle_checks, max_rss_mb=s.recycle_rss_mb, max_pending=s.queue)

    def run(self, cf: CheckFile, timeout: float) -> RunOutcome:
        return self.pool.run(cf, timeout)

    def goals(self, cf: CheckFile, line: int, column: int, timeout: float | None = None) -> Optional[list[str]]:
        return self.goals_at(cf, [(line, column)], timeout)[0]

    def goals_at(self, cf: CheckFile, positions: list[tuple[int, int]],
                 timeout: float | None = None) -> list[Optional[list[str]]]:
        return self.pool.use(cf.header, lambda w: w.goals_at(cf, positions, timeout or self.settings.timeout))

    def close(self) -> None:
        self.pool.close()


def server_available(settings: Settings) -> bool:
    """A Lean (configured or bundled) exists, so the server backend can run."""
    try:
        find_toolchain(settings, build=False)
        return True
    except Exception:
        return False

