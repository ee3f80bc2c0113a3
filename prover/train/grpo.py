"""Kept for imports written before the stage registry: the GRPO stage is prover.train.stages.grpo;
the shared run pieces are in prover.train.runner and prover.train.evaluate."""
from prover.train.evaluate import evaluate_model, heldout_records, reward_for_eval  # noqa: F401
from prover.train.runner import RunResult, save_final, write_card  # noqa: F401
from prover.train.stages.grpo import default_grpo_args, run_grpo  # noqa: F401
