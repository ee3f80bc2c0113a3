"""make_checker: the one way entry points build a checker, a local Checker or the same over Ray
actors. Its own module so that checker and ray_checker need not import each other (the Ray
actor holds a Checker; the factory picks between them)."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lean_env.checker import Checker, default_backend
from lean_env.ray_checker import RayChecker
from lean_env.running.settings import Settings

if TYPE_CHECKING:
    from lean_env.cache import VerdictCache
    from lean_env.interface import ProofChecker


def make_checker(backend: str | None = None, settings: Settings | None = None, *, workers: int | None = None,
                 cache: "VerdictCache | str | None" = None, ray: str | bool | None = None,
                 ray_actors: int | None = None) -> "ProofChecker":
    """The one way entry points build a checker (lean_env.interface.ProofChecker). `backend` None
    is the one default everywhere: the fastest installed (default_backend). `ray` (an address,
    "auto", "local", or True for "auto") fans the same Checker out over Ray actors, each with a
    pool of `workers` Lean processes; the verdict cache is then read by the actors from
    $PROVER_VERDICT_CACHE."""
    settings = settings or Settings.from_env()
    name = backend or default_backend(settings)
    if ray:
        if cache is not None:  # actors' Checkers read it from their environment (a local cluster inherits ours;
            os.environ["PROVER_VERDICT_CACHE"] = str(cache)  # on a real cluster set it on the nodes)
        return RayChecker(name, settings, address="auto" if ray is True else str(ray), actors=ray_actors,
                          workers_per_actor=workers or 1)
    return Checker(name, settings, workers=workers, cache=cache)
