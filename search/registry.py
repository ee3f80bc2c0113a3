"""Search methods by name. A module of this package that defines a `search.base.Search`
subclass decorated with `@register` is a method: `--search NAME`, its knobs from
`--search-option KEY=VALUE` or a YAML file, and evaluation pick it up without other edits."""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from pathlib import Path
from typing import Any, Mapping

_METHODS: dict[str, type] = {}
_discovered = False
_ORDER = ("best-of-n", "mcts", "bfs", "repair", "self-correct")  # how listings show the built-in ones


def register(cls: type) -> type:
    """Class decorator: make `cls` (a Search subclass with a `name`) selectable by that name."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no `name` to register under")
    other = _METHODS.get(cls.name)
    if other is not None and other is not cls:
        raise ValueError(f"two search methods are named {cls.name!r}: {other.__module__} and {cls.__module__}")
    _METHODS[cls.name] = cls
    return cls


def _discover() -> None:
    global _discovered
    import search

    _discovered = True
    for info in pkgutil.iter_modules(search.__path__):
        if not info.name.startswith("_"):  # a module that registers nothing is simply not a method
            importlib.import_module(f"search.{info.name}")


def methods() -> dict[str, type]:
    """Every registered method, built-in ones first."""
    if not _discovered:  # some methods may be registered already (imported directly): find the rest
        _discover()
    names = [n for n in _ORDER if n in _METHODS] + sorted(n for n in _METHODS if n not in _ORDER)
    return {n: _METHODS[n] for n in names}


def names() -> tuple[str, ...]:
    return tuple(methods())


def get(name: str) -> type:
    found = methods().get(name)
    if found is None:
        raise ValueError(f"unknown search {name!r}; choose one of {', '.join(names())}")
    return found


def options_help(name: str) -> str:
    """`knob=default` for each option of a method, for --help and error messages."""
    cfg = get(name).Config
    return ", ".join(f"{f.name}={_default(f)!r}" for f in dataclasses.fields(cfg)) or "none"


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None


def parse_options(name: str, pairs: Mapping[str, Any]) -> dict[str, Any]:
    """Knob values for method `name`, converted to each field's type (from the CLI's strings or a
    YAML file's values); an unknown knob or a value of the wrong kind is a ValueError that names it."""
    cfg = get(name).Config
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    hints = typing.get_type_hints(cfg)
    out: dict[str, Any] = {}
    for key, raw in pairs.items():
        key = key.replace("-", "_")
        if key not in fields:
            raise ValueError(f"--search {name} has no option {key!r}; its options: {options_help(name)}")
        out[key] = _convert(name, key, raw, hints.get(key, str))
    return out


def _convert(method: str, key: str, raw: Any, hint: Any) -> Any:
    from lean_env.soundness.limits import MAX_COUNT, RULES, LimitError, Rule, check

    optional = type(None) in typing.get_args(hint)
    kinds = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    kind = kinds[0]
    if isinstance(raw, str):
        text = raw.strip()
        if optional and text.lower() in ("none", "null", ""):
            return None
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                value: Any = text.lower() in ("true", "1", "yes")
            elif kind in (int, float):
                value = kind(text)
            else:
                value = raw  # text knobs keep their spaces
        except ValueError:
            raise ValueError(f"--search {method} option {key}={raw!r}: expected {getattr(kind, '__name__', kind)}") \
                from None
    else:
        value = raw
        if value is None and optional:
            return None
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok and kind in (int, float, bool, str):
            raise ValueError(f"--search {method} option {key}={raw!r}: expected {kind.__name__}")
    if kind in (int, float) and value is not None:
        rule = RULES.get(key) or (Rule("int", 0, MAX_COUNT) if kind is int else Rule("number", -1e9, 1e9))
        try:  # NaN, inf, 1e12 samples: refused like every other number
            value = check(key, value, f"--search {method} option ", rule)
        except LimitError as exc:
            raise ValueError(str(exc)) from None
    if kind is Path or (isinstance(kind, type) and issubclass(kind, Path)):
        return Path(value)
    return value


def load_options_file(path: str | Path) -> tuple[str | None, dict[str, Any]]:
    """A YAML file `{method: NAME, KNOB: VALUE, ...}` (method optional) -> (method, raw knobs)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ValueError(f"--search-config {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"--search-config {path}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--search-config {path}: expected a mapping of option: value")
    method = data.pop("method", None)
    return (str(method) if method is not None else None), data


def build(name: str, policy: Any, checker: Any, params: Any, budget: int, fmt: str,
          options: Mapping[str, Any] | None = None, **common: Any) -> Any:
    """An instance of method `name`. `common` holds settings several methods share (round_size,
    stop_at_first, batch_problems, on_attempt): each is passed only to a method whose Config has
    it (or that takes it, for on_attempt), so no method takes an argument it ignores."""
    cls = get(name)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    knobs = {k: v for k, v in common.items() if k in fields and v is not None}
    knobs.update(options or {})
    return cls(policy, checker, params, budget=budget, fmt=fmt, on_attempt=common.get("on_attempt"), **knobs)
