"""The model card a training run leaves in its output directory (prover.json).

Why: a trained model only works with the prompt format it was trained on, and its theorems
need one Lean environment; writing both next to the weights lets `prover eval DATA --model DIR`
and `prover prove --model DIR` pick them up without `--format` (prover.models reads it back).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prover.models import MODEL_CARD


def write_card(output_dir: str, cfg: Any) -> Path:
    """Record the run's prompt format, environment, base model, data and stage."""
    card = {
        "prompt_format": cfg.prompt_format,
        "env": cfg.env,
        "base_model": cfg.model,
        "dataset": cfg.dataset,
        "split": cfg.split,
        "stage": cfg.stage,
        "written_by": "prover train",
    }
    path = Path(output_dir) / MODEL_CARD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path
