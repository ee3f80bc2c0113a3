"""Torch threads chosen by measurement (prover.train.threads): the decision on given step times and
loads, and a real SFT run that probes, logs its choice and leaves the thread count as it found it."""
from __future__ import annotations

import pytest

from prover.train.threads import ThreadChooser


def run_steps(chooser: ThreadChooser, steps: int, seconds: dict, others: float = 0.0) -> list[int]:
    """Drive the chooser as the trainer does; a step at c threads takes seconds[c]."""
    used = []
    for _ in range(steps):
        c = chooser.next_threads(others)
        used.append(c)
        chooser.step_took(seconds[c])
    return used


def test_an_idle_machine_trains_on_with_the_faster_count():
    chooser = ThreadChooser(candidates=(1, 2), current=1, period=50, probe_steps=3)
    used = run_steps(chooser, 60, {1: 1.6, 2: 1.1})
    assert used[:8] == [2, 2, 2, 2, 1, 1, 1, 1]  # the other count first, the current one last, 1 + 3 steps each
    assert chooser.history[0] == {"seconds_per_step": {1: 1.6, 2: 1.1}, "chosen": 2}
    assert set(used[8:50]) == {2}
    assert used[50:58] == [1, 1, 1, 1, 2, 2, 2, 2]  # probed again `period` steps after the first, now from 2
    assert chooser.current == 2


def test_spinning_threads_lose_the_probe():
    chooser = ThreadChooser(candidates=(1, 2), current=1, period=50, probe_steps=3)
    used = run_steps(chooser, 30, {1: 1.6, 2: 9.3})
    assert chooser.history[0]["chosen"] == 1
    assert set(used[8:]) == {1}


def test_the_untimed_first_step_of_each_count_is_not_measured():
    chooser = ThreadChooser(candidates=(1, 2), current=1, period=100, probe_steps=2)
    times = iter([50.0, 1.0, 1.0, 40.0, 2.0, 2.0])  # warm-up steps are slow; they must not decide
    for _ in range(6):
        chooser.next_threads(0.0)
        chooser.step_took(next(times))
    assert chooser.history[0] == {"seconds_per_step": {2: 1.0, 1: 2.0}, "chosen": 2}


def test_a_busy_machine_is_not_probed_and_a_filled_one_drops_threads():
    chooser = ThreadChooser(candidates=(1, 2), current=1, period=10, probe_steps=3)
    assert set(run_steps(chooser, 25, {1: 1.0, 2: 0.1}, others=1.5)) == {1}  # no core free: 2 is never tried
    assert chooser.history == []
    chooser = ThreadChooser(candidates=(1, 2), current=2, period=10, probe_steps=3)
    run_steps(chooser, 10, {1: 2.0, 2: 1.0}, others=0.0)  # the probe at step 0 keeps 2
    assert chooser.current == 2
    assert run_steps(chooser, 10, {1: 2.0, 2: 1.0}, others=3.0) == [1] * 10  # load came: 1 at the next look


def test_the_load_is_read_only_when_the_chooser_looks():
    chooser = ThreadChooser(candidates=(1, 2), current=1, period=10, probe_steps=1)
    looks = []
    for _ in range(25):
        chooser.next_threads(lambda: looks.append(1) or 3.0)  # busy: no probe, just a look every 10 steps
        chooser.step_took(1.0)
    assert len(looks) == 3


def test_other_jobs_cpu_is_the_machines_busy_time_less_this_process():
    from prover.train.threads import OthersMeter

    clock, busy, own, slept = [100.0], [5000.0], [20.0], []

    def sleep(s):
        slept.append(s)
        clock[0] += s
        busy[0] += 0.3 * 1.5  # over the short window: this process idle, others 1.5 cores

    meter = OthersMeter(busy=lambda: busy[0], own=lambda: own[0], clock=lambda: clock[0], sleep=sleep)
    assert abs(meter() - 1.5) < 1e-9 and slept == [0.3]  # the first look waits for a window it can read
    clock[0] += 10.0
    busy[0] += 10.0 * 1.8  # this process 1.0 core + others 0.8
    own[0] += 10.0
    assert abs(meter() - 0.8) < 1e-9 and slept == [0.3]
    clock[0] += 10.0
    busy[0] += 10.0 * 2.0  # this process on both cores, nobody else
    own[0] += 20.0
    assert meter() == 0.0


def test_the_machines_busy_time_is_read_from_proc_stat():
    import os

    from prover.train.threads import busy_seconds

    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat here: the meter falls back to the load average")
    a = busy_seconds()
    sum(i * i for i in range(3_000_000))  # this process keeps a core busy for a while
    b = busy_seconds()
    assert 0 < a < b


def test_a_one_core_machine_never_probes():
    chooser = ThreadChooser(candidates=(1,), current=1, period=5, probe_steps=3)
    assert set(run_steps(chooser, 12, {1: 1.0})) == {1} and chooser.history == []


def test_sft_with_adapt_threads_probes_logs_and_restores(tmp_path, monkeypatch):
    import torch

    import prover.train.threads as threads
    from prover.train.config import from_dict
    from prover.train.stages.sft import run_sft

    monkeypatch.setattr(torch, "set_num_threads", torch._C.set_num_threads)  # as in a fresh process (vLLM's
    # CPU worker, run earlier in this one by another test, replaces it with a no-op)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(threads, "others_meter", lambda: lambda: 0.0)  # the machine looks idle
    real = ThreadChooser.step_took  # and 2 threads look faster, so the run ends on 2 (then restores 1)
    monkeypatch.setattr(ThreadChooser, "step_took",
                        lambda self, s: real(self, {1: 2.0, 2: 1.0}[torch.get_num_threads()]))
    cfg = from_dict({"model": "tiny", "tiny": {"layers": 1, "hidden": 32, "heads": 2}, "dataset": "logic",
                     "split": "train", "prompt_format": "compact", "torch_threads": 1, "adapt_threads": True,
                     "max_steps": 10, "per_device_train_batch_size": 2, "output_dir": str(tmp_path / "m"),
                     "report_to": "none", "save_steps": 1000, "logging_steps": 100, "heldout_every": 0}, "sft")
    lines: list[str] = []
    seen: list[int] = []
    real_begin = threads.ThreadChooser.next_threads
    monkeypatch.setattr(ThreadChooser, "next_threads",
                        lambda self, o: seen.append(real_begin(self, o)) or seen[-1])
    result = run_sft(cfg, log=lines.append)
    assert result.extra["threads"] == [{"seconds_per_step": {2: 1.0, 1: 2.0}, "chosen": 2}]
    assert seen == [2, 2, 2, 2, 1, 1, 1, 1, 2, 2]  # the probe, then training on at 2
    assert any(line.startswith("threads measured at step 8: 1 thread 2.00 s/step, 2 threads 1.00 s/step; "
                               "training on with 2") for line in lines), lines
    assert torch.get_num_threads() == 1  # what the run set (torch_threads) is back for what runs next


def test_a_process_whose_thread_count_is_fixed_trains_on_and_says_so(tmp_path, monkeypatch):
    """vLLM's CPU worker replaces torch.set_num_threads with a no-op in the process it ran in: the
    run must not time steps it cannot change, nor report a choice it did not make."""
    import torch

    import prover.train.threads as threads
    from prover.train.config import from_dict
    from prover.train.stages.sft import run_sft

    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(threads, "others_meter", lambda: lambda: 0.0)
    torch._C.set_num_threads(1)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    cfg = from_dict({"model": "tiny", "tiny": {"layers": 1, "hidden": 32, "heads": 2}, "dataset": "logic",
                     "split": "train", "prompt_format": "compact", "torch_threads": 1, "adapt_threads": True,
                     "max_steps": 6, "per_device_train_batch_size": 2, "output_dir": str(tmp_path / "m"),
                     "report_to": "none", "save_steps": 1000, "logging_steps": 100, "heldout_every": 0}, "sft")
    lines: list[str] = []
    result = run_sft(cfg, log=lines.append)
    assert result.global_step == 6 and "threads" not in result.extra
    assert [x for x in lines if x.startswith("threads")] == [
        "threads: torch's count cannot change in this process (vLLM ran here?); training on with 1"]
