"""`prover train STAGE --config FILE`: read the YAML, run the registered stage
(prover.train.registry), print a summary. Exit codes: 0 trained, 2 unusable configuration."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from prover.console import err, error, esc, info, warn
from prover.train.config import ConfigError, load_config


def _resume_arg(resume: Optional[str], output_dir: str) -> Optional[str | bool]:
    """--resume: "last" (the output_dir's latest checkpoint) or a checkpoint directory."""
    if resume is None:
        return None
    if resume in ("last", "latest", "true"):
        from transformers.trainer_utils import get_last_checkpoint

        found = get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None
        if found is None:
            err.print(f"[yellow]no checkpoint in {esc(output_dir)}: starting from step 0[/yellow]")
            return None
        info(f"resuming from {esc(found)} ({checkpoint_step(found)})")
        return found
    if not os.path.isdir(resume):
        raise ConfigError(f"--resume {resume}: no such checkpoint directory; pass `last` or a checkpoint-N directory")
    info(f"resuming from {esc(resume)} ({checkpoint_step(resume)})")
    return resume


def _trainer_state(path: str) -> dict:
    import json

    try:
        state = json.loads(Path(path, "trainer_state.json").read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def finished_note(checkpoint: str, max_steps: int) -> Optional[str]:
    """Why there is nothing to train when the checkpoint already reached the run's last step
    (resuming it anyway would make the Trainer take one step more than asked)."""
    state = _trainer_state(checkpoint)
    step, planned = state.get("global_step"), max_steps if max_steps > 0 else state.get("max_steps")
    if isinstance(step, int) and isinstance(planned, int) and planned > 0 and step >= planned:
        return (f"{checkpoint} is step {step} of {planned}: this run is finished, nothing to train "
                f"(pass --max-steps with more than {step} to train further)")
    return None


def resume_command(stage: str, config: Path, *, output_dir: Optional[str], max_steps: Optional[int],
                   model: Optional[str], ray: bool, resumes_itself: bool) -> str:
    """The command line that continues this run."""
    import shlex

    args = ["prover", "train", stage, "--config", str(config)]
    for option, value in (("--output-dir", output_dir), ("--max-steps", max_steps), ("--model", model)):
        if value is not None:
            args += [option, str(value)]
    if ray:
        args.append("--ray")
    return shlex.join(args if resumes_itself else args + ["--resume", "last"])


def checkpoint_step(path: str) -> str:
    """`step N of M` from the checkpoint's trainer_state.json (what TRL resumes from)."""
    import json

    try:
        state = json.loads(Path(path, "trainer_state.json").read_text())
        return f"step {state.get('global_step')} of {state.get('max_steps')}"
    except (OSError, ValueError):
        return "no trainer_state.json: the step is unknown"


def run_train(stage: str, config: Path, *, output_dir: Optional[str] = None, resume: Optional[str] = None,
              max_steps: Optional[int] = None, ray: bool = False, model: Optional[str] = None,
              print_config: bool = False) -> int:
    overrides: dict = {}
    if output_dir:
        overrides["output_dir"] = output_dir
    if model:
        overrides["model"] = model
    if max_steps is not None:
        overrides["max_steps"] = max_steps
    if ray:
        overrides["ray"] = True
    try:
        cfg = load_config(config, stage, overrides)
    except (ConfigError, FileNotFoundError) as exc:
        error(exc)
        return 2
    if print_config:
        from prover.train.show_config import describe

        try:
            print(describe(cfg), end="")
        except (ValueError, TypeError) as exc:  # TRL's own checks of its fields (batch sizes that do not divide ...)
            error(f"{config}: TRL refuses this configuration: {exc}")
            return 2
        return 0
    from prover.train.registry import get_stage

    if cfg.profile:  # before a model loads: a Mathlib profile that is not installed cannot check anything
        from lean_env.running.settings import Settings

        try:
            Settings.from_env(profile=cfg.profile)
        except FileNotFoundError as exc:
            error(f"{config}: {exc}")
            return 2
    try:
        if get_stage(stage).resumes_itself:
            if resume is not None:
                info(f"{stage} resumes from its own files in {esc(cfg.output_dir)} (every run does)")
            resume_from = None
        else:
            resume_from = _resume_arg(resume, cfg.output_dir)
    except ConfigError as exc:
        error(exc)
        return 2
    if isinstance(resume_from, str):
        done = finished_note(resume_from, int(cfg.trl.get("max_steps") or -1))
        if done:
            info(esc(done))
            return 0

    from prover.train.progress import TrainingInterrupted

    again = resume_command(stage, config, output_dir=output_dir, max_steps=max_steps, model=model, ray=ray,
                           resumes_itself=get_stage(stage).resumes_itself)
    try:
        result = get_stage(stage).run(cfg, resume=resume_from, log=lambda text: err.print(esc(text)))
    except (ValueError, FileNotFoundError) as exc:  # no usable data: say why, no traceback
        error(exc)
        return 2
    except TrainingInterrupted as stopped:
        saved = f"checkpoint saved in {esc(stopped.checkpoint)}" if stopped.checkpoint else "no checkpoint written"
        err.print(f"\ninterrupted at step {stopped.step} of {stopped.max_steps}: {saved}; "
                  f"resume with: {esc(again)}")
        return 130
    except KeyboardInterrupt:
        err.print(f"\ninterrupted: the checkpoints in {esc(cfg.output_dir)} are kept (steps since the last one are "
                  f"lost); resume with: {esc(again)}")
        return 130
    err.print(f"{stage}: {result.global_step} steps in {result.train_seconds:.0f}s "
              f"(generation {result.generation_seconds:.0f}s, verification {result.verification_seconds:.0f}s, "
              f"optimisation {result.optimisation_seconds:.0f}s); model saved to {esc(result.output_dir)}")
    if result.lean_checks:
        err.print(f"  Lean checks spent on training data / rewards: {result.lean_checks}")
    for step, r in result.heldout:
        err.print(f"  step {step}: held-out " + ", ".join(f"pass@{k} {v:.3f}" for k, v in r.pass_at.items()))
    if result.extra.get("no_learning_signal"):  # the saved model is the start model: say so last
        warn(result.extra["no_learning_signal"])
    return 0
