"""What `prover doctor` and `prover setup NAME --dry-run` say about each profile: installed or
which step is next, what CI verified and what it could not, and a real install recorded here."""
from __future__ import annotations

import shutil

from lean_env.install.profiles import PROFILES, Profile, profile_notes
from lean_env.install.steps import plan
from lean_env.install.workspace import Workspace, verified_here
from lean_env.running.settings import Settings

# What was verified for each profile, and where, so a user can tell what has been run and what
# has only been read. "CI" is this project's test suite on a machine with no GitHub and no
# Mathlib; a real install is recorded on the machine that ran it (see verified_here()).
VERIFIED_CI = (
    ("pins", "CI", "full 40-hex commits; the self-test statement and header equal the dataset variant's row "
                   "(tests/test_setup.py)"),
    ("setup plan", "CI", "`--dry-run` lists every step with its command, directory, hosts and tools; offline and "
                         "missing-tool failures stop before any step (tests/test_setup.py)"),
    ("wrappers, settings.json, self-test step", "CI", "run for real with the bundled Lean 4.35 standing in for the "
                                                        "profile's Lean (tests/test_setup.py, marked lean)"),
    ("REPL protocol and pool", "CI", "71 real v4.24.0 REPL transcripts; pool mechanics on a stand-in REPL "
                                     "(tests/test_repl_protocol.py, tests/test_pool.py)"),
)
VERIFIED_PROFILE = {
    "minif2f-v4.24": (),
    "kimina-v4.15": (),
    "putnambench-v4.27": (),
    "deepseek-v1.5": (
        ("flush commit, pty fallback", "CI", "a local upstream/fork pair of git repos: the commit applies, or "
                                             "conflicts and the clone is reset with repl_stdout = pty (tests/test_setup.py)"),
        ("old-REPL behaviours", "CI", "a stand-in with block-buffered stdout, no proofStatus and the ast field: "
                                      "the pty and whole-file fallbacks work against it (tests/test_repl_old.py)"),
    ),
}
NOT_VERIFIED = {
    "kimina-v4.15": ("the real install has not been run in CI; the pins are read from Kimina-Prover-Preview's zips "
                     "and issue #9, and the REPL tag from leanprover-community/repl"),
    "putnambench-v4.27": ("the real install has not been run in CI; the pins are PutnamBench's lake-manifest.json "
                          "and leanprover-community/repl's v4.27.0 tag"),
    "minif2f-v4.24": ("the real install (elan, lake update, cache get, lake build, REPL build, self-test) has not "
                      "been run in CI (no GitHub there); a machine that runs it records it below"),
    "deepseek-v1.5": ("the real install has not been run in CI; that upstream's flush commit applies to the fork "
                      "(setup falls back to a pty if not), the fork's full Mathlib build time, and the REPL's "
                      "answers under Lean v4.9 are known from reading the repositories only"),
}


def doctor_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """One row per profile: installed / partially (which step is next) / not installed, and the fix."""
    rows = []
    for p in PROFILES.values():
        ws = Workspace(p, settings, shutil.which("elan"))
        what = f"mathlib: {p.name}"
        if not ws.root.exists():
            rows.append((what, "[yellow]not installed[/]", f"`prover setup {p.name}` (needs internet; `--dry-run` shows the steps)"))
            continue
        steps = plan(p, settings, shutil.which("elan"))
        todo = [i for i, s in enumerate(steps, 1) if not s.is_done()]
        if not todo:
            rows.append((what, f"[green]installed[/] at {ws.root}", f"use it: PROVER_PROFILE={p.name}"))
        else:
            k = todo[0]
            rows.append((what, f"[yellow]partially installed[/]: next is step {k}/{len(steps)}, {steps[k - 1].description}",
                         f"`prover setup {p.name}` resumes there"))
    return rows


def verified_lines(profile: Profile, settings: Settings) -> list[str]:
    """The profile's record: what CI verified, what it could not, and any real install here."""
    lines = [f"verified ({where}): {what}: {how}" for what, where, how in VERIFIED_CI + VERIFIED_PROFILE.get(profile.name, ())]
    lines.append(f"not verified in CI: {NOT_VERIFIED[profile.name]}")
    here = verified_here(Workspace(profile, settings))
    lines.append(f"verified on this machine: {here}" if here else "verified on this machine: nothing yet (no finished self-test)")
    return lines


def doctor_notes(settings: Settings) -> list[tuple[str, str, str]]:
    """`prover doctor` rows: per profile, what is known slow or missing, and what was verified where."""
    rows = []
    for p in PROFILES.values():
        rows.append((f"  {p.name}: known", "\n".join(profile_notes(p)), ""))
        ci = ", ".join(what for what, _, _ in VERIFIED_CI + VERIFIED_PROFILE.get(p.name, ()))
        here = verified_here(Workspace(p, settings)) or "nothing yet"
        rows.append((f"  {p.name}: verified", f"in CI: {ci}\nnot in CI: the real install\non this machine: {here}",
                     f"`prover setup {p.name} --dry-run` shows the full record"))
    return rows
