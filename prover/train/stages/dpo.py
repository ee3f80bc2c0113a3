"""`prover train dpo`: Direct Preference Optimization (Rafailov et al. 2023) on verified proofs.

Each pair is a statement's Lean-verified proof (chosen) against a failed attempt at the same
statement (rejected), from eval records (prover.train.preference, proof_data.dpo_pairs).
BFS-Prover (Xin et al. 2025) uses DPO on verified vs failed steps the same way. The math is
TRL's DPOTrainer; its knobs keep TRL's names: beta, loss_type (sigmoid, ipo, hinge, ...),
label_smoothing (cDPO / robust DPO), precompute_ref_log_probs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from prover.train.config import TrainConfig
from prover.train.preference import PreferenceOptions, default_preference_args
from prover.train.registry import Stage
from prover.train.runner import RunResult


@dataclass
class DPOOptions(PreferenceOptions):
    per_statement: int = 1  # pairs per statement (0: every verified x failed combination)


def run_dpo(cfg: TrainConfig, resume: Optional[str | bool] = None, model: Any = None, tokenizer: Any = None,
            log: Callable[[str], None] = print) -> RunResult:
    from prover.train.preference import run_preference
    from prover.train.proof_data import dpo_pairs

    return run_preference(cfg, "DPOTrainer", dpo_pairs, resume, model, tokenizer, log)


STAGE = Stage("dpo", "DPO: verified proof chosen vs failed attempt rejected, same statement (TRL DPOTrainer).",
              "DPOConfig", run_dpo, options=DPOOptions, defaults=default_preference_args)
