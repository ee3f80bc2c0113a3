"""`prover train rloo`: REINFORCE Leave-One-Out (Kool et al. 2019; Ahmadian et al. 2024, "Back to
Basics") with Lean's verdict as the reward, on TRL's RLOOTrainer.

Each of a prompt's k samples is baselined by the mean reward of the other k-1, so no critic is
needed; TRL's knobs keep its names (num_generations, beta, epsilon, normalize_advantages,
reward_clip_range ...). The rollout, reward, held-out callback and timing are GRPO's
(prover.train.stages.grpo.run_online). Dynamic sampling is not applied: with a binary verifier a
group whose samples all agree gets leave-one-out advantages of exactly zero, so it carries no
gradient already (it still costs its generation); `drop_negatives` is GRPO-only."""
from __future__ import annotations

from typing import Any, Callable, Optional

from prover.train.config import ConfigError, TrainConfig
from prover.train.registry import Stage
from prover.train.runner import RunResult
from prover.train.stages.grpo import default_grpo_args


def run_rloo(cfg: TrainConfig, resume: Optional[str | bool] = None, model: Any = None, tokenizer: Any = None,
             log: Callable[[str], None] = print, on_scored: Optional[Callable] = None) -> RunResult:
    from trl import RLOOTrainer

    from prover.train.stages.grpo import run_online, timed_trainer_class

    if cfg.drop_negatives:
        raise ConfigError("drop_negatives is a GRPO option; rloo's leave-one-out baseline has no such knob")
    return run_online(cfg, timed_trainer_class(RLOOTrainer), {}, resume, model, tokenizer, log, on_scored)


STAGE = Stage("rloo", "RLOO: REINFORCE with a leave-one-out baseline, Lean's verdict as reward (TRL RLOOTrainer).",
              "RLOOConfig", run_rloo, ray=True,
              defaults=default_grpo_args)
