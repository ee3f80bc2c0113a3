"""`prover setup`: install Lean environments and prove they work with a real check."""
from __future__ import annotations

from rich.console import Console

from lean_env.checker import Checker
from lean_env.environments import logic_header
from lean_env.settings import Settings
from lean_env.toolchain import ToolchainError, build_bundled
from lean_env.verdict import ProofTask

out = Console(stderr=True, soft_wrap=True)

SELFTEST_GOOD = ProofTask("theorem prover_selftest (p q : Prop) (hp : p) (hq : q) : q :=", proof=" hq")
SELFTEST_BAD = ProofTask("theorem prover_selftest (p q : Prop) (hp : p) (hq : q) : q :=", proof=" hp")


def selftest(checker: Checker, header: str) -> tuple[bool, str]:
    """A right proof must be proved and a wrong one rejected: both, or the Lean is not usable."""
    good = checker.check(ProofTask(SELFTEST_GOOD.formal_statement, header=header, proof=SELFTEST_GOOD.proof))
    bad = checker.check(ProofTask(SELFTEST_BAD.formal_statement, header=header, proof=SELFTEST_BAD.proof))
    if good.ok and not bad.ok and bad.status == "rejected":
        return True, f"a right proof proved in {good.seconds:.2f}s, a wrong one rejected"
    return False, f"right proof: {good.summary()}; wrong proof: {bad.summary()}"


def run_setup_bundled(force: bool = False) -> int:
    settings = Settings.from_env()
    try:
        exe = build_bundled(settings, force=force)
    except ToolchainError as exc:
        out.print(f"[red]error:[/] {exc}")
        return 1
    out.print(f"bundled Lean: {exe}")
    with Checker("cli", settings, workers=1) as checker:
        ok, detail = selftest(checker, logic_header())
        out.print(f"self-test on the logic prelude ({checker.backend.isolation} sandbox): "
                  + ("[green]ok[/]" if ok else "[red]FAILED[/]") + f" — {detail}")
    return 0 if ok else 1
