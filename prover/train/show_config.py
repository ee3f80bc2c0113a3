"""`prover train STAGE --config FILE --print-config`: what a run would hand TRL, without loading
a model or starting Lean.

Three parts, as YAML: our options that differ from their defaults; the keyword arguments the
stage passes to TRL's config class (the stage's defaults, then the file's keys); and the values
TRL derived from them in its own `__post_init__` (generation batch, steps per generation ...),
so a recipe can be compared with its paper number by number.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from prover.train.config import OUR_KEYS, TrainConfig


NOT_SHOWN = ("disable_tqdm", "dataloader_pin_memory", "logging_dir")  # set from the terminal or machine, not the recipe


def _plain(value: Any) -> Any:
    """YAML-printable: enums by value, other objects by str."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return getattr(value, "value", str(value))


def trl_view(cfg: TrainConfig) -> dict:
    """{"prover": ..., "trl.<Class> (as given)": ..., "trl.<Class> (derived by TRL)": ...}."""
    from prover.train.registry import get_stage

    stage = get_stage(cfg.stage)
    given = {**(stage.defaults(cfg) if stage.defaults else {}), **cfg.trl}
    args = cfg.trl_args(**(stage.defaults(cfg) if stage.defaults else {}))
    cls = type(args)
    field_defaults = {f.name: (f.default if f.default is not dataclasses.MISSING else
                               f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
                      for f in dataclasses.fields(cls) if f.init}
    derived = {name: getattr(args, name) for name, default in field_defaults.items()  # numbers and switches only
               if name not in given and name not in NOT_SHOWN and isinstance(getattr(args, name, None), (int, float, str))
               and _plain(getattr(args, name)) != _plain(default)}
    base = TrainConfig(stage=cfg.stage)
    ours = {k: getattr(cfg, k) for k in OUR_KEYS if k != "stage" and getattr(cfg, k) != getattr(base, k)}
    if cfg.options is not None:
        defaults = type(cfg.options)()
        ours.update({f.name: getattr(cfg.options, f.name) for f in dataclasses.fields(cfg.options)
                     if getattr(cfg.options, f.name) != getattr(defaults, f.name)})
    return {"stage": cfg.stage, "prover": _plain(dict(sorted(ours.items()))),
            f"trl.{cls.__name__} (as given)": _plain(dict(sorted(given.items()))),
            f"trl.{cls.__name__} (derived by TRL)": _plain(dict(sorted(derived.items())))}


def describe(cfg: TrainConfig) -> str:
    import yaml

    return yaml.safe_dump(trl_view(cfg), sort_keys=False, allow_unicode=True, width=100)
