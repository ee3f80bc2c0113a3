"""The stage registry: which training algorithms `prover train NAME` knows.

A stage is one module in prover/train/stages/ with a module-level `STAGE = Stage(...)`; dropping
a file there (plus its example config under configs/) is all a new algorithm needs: the CLI,
the config validation and `prover train --help` find it here. Stage modules must import
torch/transformers/TRL inside their functions, so listing the stages stays fast.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Optional

STAGE_PACKAGE = "prover.train.stages"


@dataclass(frozen=True)
class Stage:
    """One training algorithm.

    name: as `prover train NAME` spells it. summary: one line for --help. trl_config: the name
    of the `trl` config class whose fields the YAML may set (SFTConfig, GRPOConfig ...).
    run: `run(cfg, resume=None, model=None, tokenizer=None, log=print) -> RunResult`; a model
    passed in is trained as it is (expert iteration hands SFT the model it searched with).
    options: a dataclass of the stage's own YAML keys (None: only TrainConfig's). ray: the
    stage verifies during training, so `--ray` applies. resumes_itself: the stage picks up its
    own files in output_dir (rounds, searches, checkpoints), so `--resume` needs no checkpoint."""

    name: str
    summary: str
    trl_config: str
    run: Callable[..., Any]
    options: Optional[type] = None
    ray: bool = False
    resumes_itself: bool = False


_STAGES: dict[str, Stage] = {}


def stages() -> dict[str, Stage]:
    """Every registered stage by name, in the order of their modules' names."""
    if not _STAGES:
        package = importlib.import_module(STAGE_PACKAGE)
        found = {}
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            stage = getattr(importlib.import_module(f"{STAGE_PACKAGE}.{info.name}"), "STAGE", None)
            if isinstance(stage, Stage):
                if stage.name in found:
                    raise RuntimeError(f"two stage modules register {stage.name!r}")
                found[stage.name] = stage
        _STAGES.update(found)
    return dict(_STAGES)


def names() -> tuple[str, ...]:
    return tuple(stages())


class UnknownStage(LookupError):
    """No stage module registers this name (prover.train.config reports it as a ConfigError)."""


def get_stage(name: str) -> Stage:
    found = stages().get(name)
    if found is None:
        raise UnknownStage(f"unknown stage {name!r}; use one of {', '.join(names())}")
    return found


def trl_config_class(name: str) -> type:
    """The TRL config class of stage `name` (imports TRL)."""
    import trl

    return getattr(trl, get_stage(name).trl_config)
