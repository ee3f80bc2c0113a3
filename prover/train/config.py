"""One training configuration, read from YAML.

Keys are flat. Our own options are the fields of `TrainConfig` and of the stage's own options
dataclass (`Stage.options`, e.g. expert iteration's rounds); every other key must be a field of
TRL's config for the stage (`Stage.trl_config`: SFTConfig, GRPOConfig, DPOConfig, KTOConfig) and
is passed to it unchanged, under TRL's own name (num_generations, epsilon, epsilon_high, beta,
loss_type, scale_rewards, max_completion_length, use_vllm, learning_rate, output_dir ...).
A key that is neither is an error that names the key: a typo must not silently train with
a default.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from prover.train import registry



class ConfigError(ValueError):
    """The configuration cannot be used as written."""


@dataclass
class TrainConfig:
    stage: str = "grpo"  # a registered stage name (set by the command that reads the file)

    # --- model ---
    model: str = "tiny"  # HF hub id or local path; "tiny" = a small Llama built from scratch; "smollm2-135m"
    tokenizer: str = ""  # default: the model's own (for "tiny": a BPE trained on the training prompts)
    tiny: dict = field(default_factory=dict)  # size overrides for model "tiny" (hidden_size, num_hidden_layers ...)

    torch_threads: int = 0  # torch intra-op threads (0: torch's default). 1 on a small shared CPU box: Lean needs the other cores
    adapt_threads: bool = False  # time steps at 1 thread and at every core now and then, train on with the faster (prover.train.threads)

    # --- data ---
    dataset: str = "logic"  # "logic" (the generated benchmark), a .jsonl file, or an HF dataset name
    split: str = "train"  # split of `dataset` to train on
    eval_split: str = "test"  # held-out split for the pass@k callback
    logic: dict = field(default_factory=dict)  # options of the logic generator (size, seed, levels ...)
    max_rows: int = 0  # use at most this many training rows (0: all)
    prompt_format: str = "deepseek-v1.5"  # protocol.prompts format name
    env: str = "logic"  # Lean environment whose header rows without a `header` column get
    include_informal: bool = True

    # --- LoRA (peft) ---
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: Any = "all-linear"

    # --- Lean verification (grpo reward and held-out evaluation) ---
    checker_backend: str = ""  # cli | server | repl ("": the fastest installed, as on every command)
    checker_workers: int = 0  # concurrent checks (0: number of cores)
    checker_timeout: float = 60.0  # seconds per check
    ray: bool = False  # fan verification out to the Ray checker (lean_env.ray_checker)
    ray_address: str = "auto"  # "auto" (join a running cluster, else start one), "local", or an address
    ray_actors: int = 0  # checker actors (0: the cluster's CPUs / checker_workers)
    lean: str = ""  # a lean executable instead of the bundled one
    profile: str = ""  # the `prover setup NAME` profile (Lean + Mathlib + REPL) to check with; "" = $PROVER_PROFILE, else the bundled Lean
    checker_url: str = ""  # a running `prover serve` every process sends its checks to ("": one process - a local
    # checker; several (accelerate launch) - the launcher's first process on each node starts one for the node)
    trust: str = ""  # "native_decide": rewards and held-out checks accept it (as Kimina's checker does); "": strict

    # --- GRPO extras TRL lacks ---
    dynamic_sampling: bool = True  # DAPO: groups whose rewards are all equal carry no signal; drop them
    dynamic_sampling_refills: int = 0  # DAPO's refill: up to N extra generation rounds per batch replace them with informative groups
    format_reward: float = 0.0  # weight of the format reward (0: off)
    overlong_buffer: int = 0  # DAPO soft overlong punishment: the last N tokens before max_completion_length (0: off)
    overlong_penalty: float = 1.0  # weight of that punishment (it is in [-1, 0] before weighting)
    drop_negatives: float = 0.0  # fraction of negative-advantage samples left out of the loss (Kimina-Prover)

    # --- held-out pass@k during training (a TrainerCallback with the real Checker) ---
    heldout_every: int = 0  # steps between evaluations (0: only before and after training)
    heldout_size: int = 0  # theorems of eval_split to use (0: all)
    heldout_k: int = 1  # samples per theorem (pass@1 is estimated from these, pass@k reported)
    heldout_temperature: float = 1.0
    heldout_max_new_tokens: int = 0  # 0: max_completion_length (grpo) or 256

    # --- the stage's own options (Stage.options), and the stage's TRL config by TRL's names ---
    options: Any = None
    trl: dict = field(default_factory=dict)

    def trl_args(self, **defaults: Any) -> Any:
        """The TRL config object for this stage (defaults first, the file's keys win)."""
        cls = registry.trl_config_class(self.stage)
        kwargs = {**defaults, **self.trl}
        return cls(**kwargs)

    @property
    def output_dir(self) -> str:
        return self.trl.get("output_dir", f"runs/{self.stage}")


OUR_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in ("trl", "options"))


def from_dict(data: dict, stage: str, source: str = "config") -> TrainConfig:
    """Split `data` into our options and TRL's; raise ConfigError naming any unknown key."""
    try:
        options_cls = registry.get_stage(stage).options
    except registry.UnknownStage as exc:
        raise ConfigError(str(exc)) from None
    option_keys = {f.name for f in dataclasses.fields(options_cls)} if options_cls else set()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of options, got {type(data).__name__}")
    data = dict(data)
    if "stage" in data and data["stage"] != stage:
        raise ConfigError(f"{source}: stage is {data['stage']!r} but the command is `train {stage}`")
    data.pop("stage", None)
    nested_trl = data.pop("trl", None) or {}
    trl_fields = {f.name for f in dataclasses.fields(registry.trl_config_class(stage))}
    ours: dict[str, Any] = {}
    stage_opts: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    cls = registry.trl_config_class(stage).__name__
    for key, value in data.items():
        if key in OUR_KEYS:
            ours[key] = value
        elif key in option_keys:
            stage_opts[key] = value
        elif key in trl_fields:
            theirs[key] = value
        else:
            raise ConfigError(f"{source}: unknown key {key!r}: not a prover option nor a field of trl.{cls}")
    if not isinstance(nested_trl, dict):
        raise ConfigError(f"{source}: `trl` must be a mapping of trl.{cls} fields")
    for key, value in nested_trl.items():  # an optional `trl:` section, for readers who like them apart
        if key not in trl_fields:
            raise ConfigError(f"{source}: unknown key {key!r} in `trl`: not a field of trl.{cls}")
        theirs[key] = value
    cfg = TrainConfig(stage=stage, trl=theirs, options=options_cls(**stage_opts) if options_cls else None, **ours)
    _check_types(cfg, source)
    if cfg.options is not None:
        _check_types(cfg.options, source)
    _check_ranges(cfg, source)
    check_reporters(cfg.trl.get("report_to"), source)
    return cfg


# What `pip install` gives each logger transformers can report to (the extra where we pin one).
REPORTER_INSTALL = {"tensorboard": 'pip install -e ".[gpu]" (pins tensorboard)'}


def check_reporters(report_to: Any, source: str) -> None:
    """Refuse a `report_to` logger that is not installed now, with the fix, rather than let the
    trainer raise at its construction after the model has loaded (transformers checks late)."""
    if report_to in (None, "none", "all", []):
        return
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    from transformers.integrations.integration_utils import (INTEGRATION_TO_CALLBACK,
                                                             get_available_reporting_integrations)

    available = set(get_available_reporting_integrations())
    for name in names:
        if name == "none":
            continue
        if name not in INTEGRATION_TO_CALLBACK:
            raise ConfigError(f"{source}: report_to {name!r} is not a logger transformers knows; use one of "
                              f"{', '.join(sorted(INTEGRATION_TO_CALLBACK))}, or none")
        if name not in available:
            fix = REPORTER_INSTALL.get(name, f"pip install {name}")
            raise ConfigError(f"{source}: report_to {name!r} is not installed: {fix}, or set report_to: none")


def _check_ranges(cfg: TrainConfig, source: str) -> None:
    """Ranges and finiteness (lean_env.soundness.limits, shared with check and eval); TRL checks its own
    fields' meaning, but a NaN or infinite number is refused here for them too."""
    import math

    from lean_env.soundness.limits import RULES, LimitError, check

    try:
        for f in dataclasses.fields(cfg):
            if f.name in RULES:
                setattr(cfg, f.name, check(f.name, getattr(cfg, f.name), where=f"{source}: "))
    except LimitError as exc:
        raise ConfigError(str(exc)) from None
    if not 0.0 <= cfg.drop_negatives < 1.0:
        raise ConfigError(f"{source}: drop_negatives must be a fraction in [0, 1), got {cfg.drop_negatives!r}")
    if cfg.dynamic_sampling_refills < 0:
        raise ConfigError(f"{source}: dynamic_sampling_refills must be a whole number >= 0, got {cfg.dynamic_sampling_refills!r}")
    if cfg.overlong_buffer < 0:
        raise ConfigError(f"{source}: overlong_buffer must be a whole number of tokens >= 0, got {cfg.overlong_buffer!r}")
    if cfg.options is not None and hasattr(cfg.options, "check"):
        try:
            cfg.options.check()
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    for key, value in cfg.trl.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{source}: {key} must be a finite number, got {value!r}")


def _check_types(cfg: Any, source: str) -> None:
    """Each field's value has its default's type (ints are accepted for floats)."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if f.type == "Any" or default is None:
            continue
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{source}: {f.name} must be true or false, got {value!r}")
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            setattr(cfg, f.name, float(value))
            continue
        if not isinstance(value, type(default)):
            raise ConfigError(f"{source}: {f.name} must be a {type(default).__name__}, got {value!r}")


def load_config(path: str | Path, stage: str, overrides: Optional[dict] = None) -> TrainConfig:
    """Read a YAML file (plus `overrides`, e.g. from the command line) into a TrainConfig."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if overrides:
        data = {**data, **overrides}
    return from_dict(data, stage, str(path))
