"""`prover train kto`: Kahneman-Tversky Optimization (Ethayarajh et al. 2024) on Lean verdicts.

KTO learns from unpaired examples labelled desirable or undesirable - exactly what a binary
verifier gives: every verified attempt is desirable, every failed one undesirable
(prover.train.preference, proof_data.kto_rows); no statement needs both. The math is TRL's
KTOTrainer; its knobs keep TRL's names: beta, loss_type (kto, apo_zero_unpaired),
desirable_weight, undesirable_weight (KTO's paper suggests weighting so that
desirable_weight * n_desirable ~ undesirable_weight * n_undesirable when the labels are
unbalanced)."""
from __future__ import annotations

from typing import Any, Callable, Optional

from prover.train.config import TrainConfig
from prover.train.preference import PreferenceOptions, default_preference_args
from prover.train.registry import Stage
from prover.train.runner import RunResult


def run_kto(cfg: TrainConfig, resume: Optional[str | bool] = None, model: Any = None, tokenizer: Any = None,
            log: Callable[[str], None] = print) -> RunResult:
    from prover.train.preference import run_preference
    from prover.train.proof_data import kto_rows

    return run_preference(cfg, "KTOTrainer", kto_rows, resume, model, tokenizer, log)


STAGE = Stage("kto", "KTO: verified attempts desirable, failed undesirable (TRL KTOTrainer).",
              "KTOConfig", run_kto, options=PreferenceOptions, defaults=default_preference_args)
