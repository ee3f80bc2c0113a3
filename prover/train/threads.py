"""Torch threads chosen by measuring training steps, not assumed.

On the shared 2-core box two torch threads made an SFT step 1.5x faster when the machine was idle
and 6x slower when other jobs held the cores (benchmarks/results/threads.md): the best setting
changes during a run. With `adapt_threads: true` a run times a few steps at each candidate thread
count now and then, and trains on with the faster one. More threads are tried only while the other
jobs' CPU use (read from /proc/stat) leaves a core free for them, so a busy machine pays no probe.
"""
from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

PROBE_STEPS = 3  # timed steps per candidate (after one untimed step: the pool resizes)
PERIOD = 200  # steps between probes


def cores() -> int:
    """CPUs this process may run on (the affinity mask, as a container sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class ThreadChooser:
    """The decision alone (no torch, no clock): asked before each step which thread count to run
    with, told after it how long the step took. `others`: the load of other jobs, in cores."""
    candidates: tuple[int, ...]
    current: int
    period: int = PERIOD
    probe_steps: int = PROBE_STEPS
    history: list[dict] = field(default_factory=list)  # one entry per probe: seconds per step by threads
    _queue: list[tuple[int, bool]] = field(default_factory=list)  # (threads, timed) of each probe step to run
    _times: dict[int, list[float]] = field(default_factory=dict)
    _since: int = 0  # steps run (a probe starts when it is a multiple of period)

    def allowed(self, others: float) -> list[int]:
        """The candidates the cores other jobs leave free can run (1 always)."""
        free = max(self.candidates) - others
        return [c for c in self.candidates if c == 1 or c <= free + 0.5]

    def next_threads(self, others: float | Callable[[], float]) -> int:
        """Before a step: the thread count it runs with. `others` (a number, or a function asked
        only when the load matters: every `period` steps)"""
        if not self._queue and self._since % self.period == 0:
            trial = self.allowed(others() if callable(others) else others)
            if len(trial) > 1:  # each candidate, the current one last; the first step of each untimed
                order = sorted(trial, key=lambda c: c == self.current)
                self._queue = [(c, i > 0) for c in order for i in range(self.probe_steps + 1)]
                self._times = {c: [] for c in trial}
            elif self.current > max(trial):
                self.current = max(trial)  # the machine filled up: fewer threads, no probe needed
        self._since += 1
        return self._queue[0][0] if self._queue else self.current

    def step_took(self, seconds: float) -> Optional[dict]:
        """After a step: its wall seconds. Returns the probe's result when this step ended one."""
        if not self._queue:
            return None
        threads, timed = self._queue.pop(0)
        if timed:
            self._times[threads].append(seconds)
        if self._queue:
            return None
        per_step = {c: statistics.median(t) for c, t in self._times.items()}
        self.current = min(per_step, key=per_step.get)
        result = {"seconds_per_step": per_step, "chosen": self.current}
        self.history.append(result)
        return result


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (/proc/stat; steal counts: a core
    another virtual machine holds is not free)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class OthersMeter:
    """How many cores the rest of the machine used since the last reading: the machine's busy time
    less this process's own CPU time (Lean workers, children of this process, count as others),
    per second of wall time. Unlike the load average it does not lag a minute behind a stage that
    has just ended. Falls back to the load average where /proc/stat is missing."""

    def __init__(self, busy: Callable[[], float] = busy_seconds, own: Callable[[], float] = time.process_time,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.busy, self.own, self.clock, self.sleep = busy, own, clock, sleep
        self.last = self._read()

    def _read(self) -> Optional[tuple[float, float, float]]:
        try:
            return self.clock(), self.busy(), self.own()
        except (OSError, ValueError):
            return None

    def __call__(self) -> float:
        if self.last is not None and self.clock() - self.last[0] < 0.2:
            self.sleep(0.3)  # too short a window to read (the first look, right after training began)
        now = self._read()
        if now is None or self.last is None:
            return max(0.0, os.getloadavg()[0] - 1)
        (t0, b0, o0), (t1, b1, o1) = self.last, now
        self.last = now
        return max(0.0, ((b1 - b0) - (o1 - o0)) / max(t1 - t0, 1e-6))


def others_meter() -> Callable[[], float]:
    return OthersMeter()


def adaptive_threads_callback(log: Callable[[str], None], period: int = PERIOD) -> Any:
    """A TrainerCallback that sets torch's threads before each step as a ThreadChooser says."""
    import torch
    from transformers import TrainerCallback

    class AdaptiveThreads(TrainerCallback):
        def __init__(self) -> None:
            n = cores()
            self.chooser = ThreadChooser(candidates=(1, n) if n > 1 else (1,), current=torch.get_num_threads(),
                                         period=period)
            self.before = torch.get_num_threads()  # restored at the end: what runs next (search) was set for it
            self.fixed = False  # the count cannot change in this process
            self.others = others_meter()
            self._began = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            if self.fixed:
                return
            threads = self.chooser.next_threads(self.others)
            if threads != torch.get_num_threads():
                torch.set_num_threads(threads)
                if torch.get_num_threads() != threads:  # vLLM's CPU worker, once run in a process, makes the call a no-op
                    self.fixed = True
                    log(f"threads: torch's count cannot change in this process (vLLM ran here?); training on with "
                        f"{torch.get_num_threads()}")
                    return
            self._began = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if self.fixed:
                return
            result = self.chooser.step_took(time.perf_counter() - self._began)
            if result is not None:
                times = ", ".join(f"{c} thread{'s' if c > 1 else ''} {s:.2f} s/step"
                                  for c, s in sorted(result["seconds_per_step"].items()))
                log(f"threads measured at step {state.global_step}: {times}; training on with {result['chosen']} "
                    f"(load {os.getloadavg()[0]:.1f})")  # the next step begins with that count

        def on_train_end(self, args, state, control, **kwargs):
            torch.set_num_threads(self.before)

    return AdaptiveThreads()
