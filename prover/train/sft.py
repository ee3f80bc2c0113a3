"""Kept for imports written before the stage registry: the SFT stage is prover.train.stages.sft."""
from prover.train.stages.sft import default_sft_args, run_sft  # noqa: F401
