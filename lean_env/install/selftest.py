"""The last step of an install: the Checker, on the installed profile, must prove a right proof
and reject a wrong one (a Lean that accepts both is not a checker). Its own module because it
is the one part of install that runs the Checker."""
from __future__ import annotations

from lean_env.checker import Checker
from lean_env.install.profiles import Profile, SetupError
from lean_env.install.workspace import Workspace
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask


def selftest_backends() -> list[str]:
    """cli always (the reference); repl too once its backend exists in this package."""
    import importlib.util

    return ["cli"] + (["repl"] if importlib.util.find_spec("lean_env.running.backends.repl") else [])


def run_selftest(profile: Profile, settings: Settings) -> None:
    ws = Workspace(profile, settings)
    # One worker (each REPL imports Mathlib: GBs); a generous timeout: a cold page cache can make
    # the first `import Mathlib` take minutes.
    checked = Settings.from_env(cache=settings.cache, profile=profile.name, lean=str(ws.lean_wrapper), workers=1,
                                timeout=max(settings.timeout, 600.0))
    right = ProofTask(profile.selftest_statement, header=profile.header, proof=profile.selftest_proof)
    wrong = ProofTask(profile.selftest_statement, header=profile.header, proof=profile.selftest_wrong_proof)
    for backend in selftest_backends():
        with Checker(backend, checked, workers=1) as checker:
            good, bad = checker.check(right), checker.check(wrong)
        if not (good.ok and not bad.ok and bad.status == "rejected"):
            raise SetupError(f"self-test with the {backend} backend failed: right proof: {good.summary()}; "
                             f"wrong proof: {bad.summary()}")
        print(f"   self-test ({backend} backend): right proof proved in {good.seconds:.1f}s, wrong proof rejected")
