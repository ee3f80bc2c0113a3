"""`cli` backend: one sandboxed `lean --json FILE` process per check. The simplest backend and
the reference the pooled ones are tested against."""
from __future__ import annotations

import signal

from lean_env.soundness.checkfile import CheckFile
from lean_env.soundness.judge import RunOutcome
from lean_env.soundness.messages import parse_lean_json_output, shift
from lean_env.running.sandbox_limits import Limits, RunResult
from lean_env.running.sandbox import Sandbox
from lean_env.running.settings import Settings
from lean_env.running.toolchain import Toolchain, find_toolchain


def lean_argv(toolchain: Toolchain, settings: Settings, *extra: str) -> list[str]:
    argv = [str(toolchain.lean), f"--threads={settings.threads}"]
    if settings.memory_mb:
        argv.append(f"--memory={settings.memory_mb}")
    return argv + list(extra)


def crash_reason(res: RunResult) -> str | None:
    """Why a finished Lean run does not count as a normal finish, in words; None if it does."""
    sig = res.signal
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed: memory or time limit)",
                "SIGSEGV": " (segmentation fault, often a stack overflow)", "SIGABRT": " (aborted)",
                "SIGXFSZ": " (file size limit)"}.get(name, "")
        return f"Lean was killed by {name}{hint}" + (f": {res.stderr.strip()[-300:]}" if res.stderr.strip() else "")
    if res.returncode not in (0, 1):
        tail = (res.stderr.strip() or res.stdout.strip())[-300:]
        return f"Lean exited with status {res.returncode}" + (f": {tail}" if tail else "")
    return None


class CliBackend:
    name = "cli"

    def __init__(self, settings: Settings | None = None, toolchain: Toolchain | None = None):
        self.settings = settings or Settings.from_env()
        self.toolchain = toolchain or find_toolchain(self.settings)
        probe = Sandbox(readable=self.toolchain.readable_paths())
        self.isolation = probe.method

    def _sandbox(self, timeout: float) -> Sandbox:
        limits = Limits(timeout_s=timeout, address_space_mb=self.settings.address_space_mb,
                        memory_mb=self.settings.memory_mb)
        return Sandbox(limits, readable=self.toolchain.readable_paths())

    def run(self, cf: CheckFile, timeout: float) -> RunOutcome:
        res = self._sandbox(timeout).run(lean_argv(self.toolchain, self.settings, "--json", "check.lean"),
                                         files={"check.lean": cf.text}, extra_env=self.toolchain.env())
        messages, other = parse_lean_json_output(res.stdout)
        if res.truncated:  # killed for flooding its output: not a proof, whatever it printed
            return RunOutcome(shift(messages, cf.header_lines), res.seconds, crash=f"Lean's output was cut: {res.truncation}",
                              truncated=True)
        crash = None if res.timed_out else crash_reason(res)
        if crash is None and not res.timed_out and res.returncode == 1 and not any(m.severity == "error" for m in messages):
            crash = "Lean exited with status 1 without reporting an error" + (
                f": {res.stderr.strip()[-300:]}" if res.stderr.strip() else "")
        if res.stderr.strip() and crash is None and not res.timed_out:
            other.append(res.stderr.strip()[-300:])
        return RunOutcome(shift(messages, cf.header_lines), res.seconds, res.timed_out, crash, other)

    def errors_in(self, text: str, timeout: float) -> list[str]:
        """Lean's error messages for a whole file (e.g. a header alone). A run that crashed or
        timed out says nothing about the text: no errors then."""
        res = self._sandbox(timeout).run(lean_argv(self.toolchain, self.settings, "--json", "probe.lean"),
                                         files={"probe.lean": text}, extra_env=self.toolchain.env())
        messages, _ = parse_lean_json_output(res.stdout)
        if res.timed_out or crash_reason(res):
            return []
        return [m.text for m in messages if m.severity == "error"]

    def close(self) -> None:
        pass
