"""What a training run tells its user while it runs, and how it stops on Ctrl-C.

Why: the Trainer's own printer writes each log as a Python dict of strings and a short run
(fewer steps than logging_steps) shows no loss at all; and a Ctrl-C used to end the run with
nothing said and the steps since the last checkpoint lost. Here: one aligned line per log, the
final metrics as aligned lines (the mean loss among them), and a first Ctrl-C that stops at the
end of the current step with a checkpoint (a second one stops at once).
Transformers is imported inside the functions, so importing this module stays cheap.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Callable

FINAL_KEYS = ("train_loss", "train_runtime", "train_samples_per_second", "train_steps_per_second", "epoch")


class TrainingInterrupted(Exception):
    """Ctrl-C stopped training at the end of a step; `checkpoint` holds that step (or None)."""

    def __init__(self, step: int, max_steps: int, checkpoint: Any):
        super().__init__(f"interrupted at step {step} of {max_steps}")
        self.step, self.max_steps, self.checkpoint = step, max_steps, checkpoint


def number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def log_line(step: int, max_steps: int, logs: dict) -> str:
    """`step 3/150  loss 5.847  grad_norm 2.005  learning_rate 0.0003333 ...`"""
    fields = [f"{k} {number(v)}" for k, v in logs.items() if k != "total_flos"]
    return f"step {step}/{max_steps}  " + "  ".join(fields)


def final_lines(logs: dict) -> list[str]:
    """The end-of-training metrics, one per line, names padded to one column."""
    items = [(k, logs[k]) for k in FINAL_KEYS if k in logs] + \
            [(k, v) for k, v in logs.items() if k not in FINAL_KEYS and k != "total_flos"]
    width = max((len(k) for k, _ in items), default=0)
    return ["final metrics:"] + [f"  {k.ljust(width)}  {number(v)}{' s' if k == 'train_runtime' else ''}"
                                 for k, v in items]


def use_console_callbacks(trainer: Any, log: Callable[[str], None]) -> Any:
    """Swap the Trainer's dict printer (and progress bar) for aligned lines through `log`, and add
    the Ctrl-C stop; returns the stop callback (its `.requested` says whether Ctrl-C came)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback

    class LogLines(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_local_process_zero or not logs:
                return
            if "train_runtime" in logs:
                for line in final_lines(logs):
                    log(line)
            else:
                log(log_line(state.global_step, state.max_steps, logs))

    class StopAtStepEnd(TrainerCallback):
        requested = False

        def on_step_end(self, args, state, control, **kwargs):
            if self.requested:
                control.should_save = True
                control.should_training_stop = True
            return control

    for cls in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(cls)
    trainer.add_callback(LogLines())
    stop = StopAtStepEnd()
    trainer.add_callback(stop)
    return stop


@contextmanager
def ctrl_c_stops_at_step_end(stop: Any, log: Callable[[str], None]):
    """While training: the first Ctrl-C asks `stop` to end after this step (with a checkpoint),
    the second raises KeyboardInterrupt as usual. Outside the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if stop.requested:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        stop.requested = True
        log("Ctrl-C: stopping at the end of this step and saving a checkpoint (Ctrl-C again to stop now, "
            "losing the steps since the last checkpoint)")

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
