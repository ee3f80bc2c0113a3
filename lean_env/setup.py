"""Mathlib profiles for `prover setup NAME`: a pinned Lean + Mathlib + REPL installed into a
workspace under the cache, step by step, so a second run (or one after a failure) resumes where
the first stopped, and `--dry-run` can print exactly what would run.

Layout, for cache C (see lean_env.settings):
    C/elan/                     ELAN_HOME: elan and the toolchains (shared by every profile)
    C/profiles/NAME/project/    a Lake project that requires Mathlib at the profile's rev
    C/profiles/NAME/repl/       leanprover-community/repl (or a fork) at the profile's rev, built
    C/profiles/NAME/bin/lean    the profile's Lean with the project's LEAN_PATH baked in
    C/profiles/NAME/bin/repl    the built REPL, likewise (it also needs LEAN_SYSROOT: it finds
                                Init through it, else by running `lean` from PATH)
    C/profiles/NAME/settings.json   what PROVER_PROFILE=NAME loads (lean, repl, workspace)
    C/profiles/NAME/.prover/    markers of finished steps that leave no artifact of their own

Why wrappers with a fixed LEAN_PATH rather than `lake env lean`: the Checker runs Lean in a
sandbox with a scrubbed environment (PATH=/usr/bin:/bin, HOME=scratch dir, maybe user nobody).
Running lake there would need elan on PATH and a writable workspace; the path `lake env` would
compute is fixed once the packages are built, so it is computed once, at setup.
Why toolchains go to C/elan even when elan is on PATH: the sandbox may run Lean as user nobody,
who cannot read a root-owned ~/.elan; C is chosen to be readable by it.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from lean_env.settings import Settings, profile_dir

ELAN_INSTALLER_URL = "https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh"
# What the network steps download from: git clones and Lean releases (GitHub), elan's installer.
NETWORK_URLS = ("https://github.com", "https://raw.githubusercontent.com")
OFFLINE_MESSAGE = (
    "prover setup needs internet access to GitHub to download Lean, Mathlib and the REPL; this "
    "machine has none. Run it where there is, or point PROVER_LEAN/PROVER_REPL at an existing install"
)


@dataclass(frozen=True)
class Profile:
    """One pinned environment. The self-test is a MiniF2F statement of this profile's dataset
    variant with a proof written for this project (not a model's), plus a wrong proof that must
    be rejected: a Lean that accepts both is not a checker."""

    name: str
    summary: str
    toolchain: str  # elan toolchain, e.g. leanprover/lean4:v4.24.0
    mathlib_url: str
    mathlib_rev: str  # a full commit: a tag could move
    repl_url: str
    repl_rev: str
    dataset: str  # the MiniF2F variant whose statements this environment checks
    header: str  # the variant's header (imports, options, opens)
    selftest_statement: str
    selftest_proof: str
    selftest_wrong_proof: str

    def fingerprint(self) -> str:
        return f"{self.toolchain} mathlib@{self.mathlib_rev} repl@{self.repl_rev}"


_SELFTEST = dict(
    # mathd_numbertheory_81 (valid split), identical in both variants.
    selftest_statement="theorem mathd_numbertheory_81 : 71 % 3 = 2 := by\n",
    selftest_proof="  norm_num\n",
    selftest_wrong_proof="  exact Nat.zero_ne_one\n",
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="minif2f-v4.24",
            summary="Lean v4.24.0 + Mathlib v4.24.0: the yangky11/miniF2F-lean4 port",
            toolchain="leanprover/lean4:v4.24.0",
            mathlib_url="https://github.com/leanprover-community/mathlib4.git",
            mathlib_rev="f897ebcf72cd16f89ab4577d0c826cd14afaafc7",  # tag v4.24.0
            repl_url="https://github.com/leanprover-community/repl.git",
            repl_rev="8fff8552292860d349b459d6a811e6915671dc0d",  # tag v4.24.0
            dataset="lean4_v4.24",
            header="import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n",
            **_SELFTEST,
        ),
        Profile(
            name="deepseek-v1.5",
            summary="Lean v4.9.0-rc1 + DeepSeek-Prover-V1.5's Mathlib fork and REPL fork (Goedel-Prover uses the same)",
            toolchain="leanprover/lean4:v4.9.0-rc1",
            mathlib_url="https://github.com/xinhjBrant/mathlib4.git",
            mathlib_rev="2f65ba7f1a9144b20c8e7358513548e317d26de1",  # branch deepseek, on upstream d1d1e4b72
            repl_url="https://github.com/xinhjBrant/repl.git",
            repl_rev="3334a97b268ecc67beb36a75787f7e831208a724",  # branch deepseek
            dataset="deepseek_v1.5",
            header="import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n",
            **_SELFTEST,
        ),
    )
}


class SetupError(RuntimeError):
    """A step cannot run or failed; the message says what to do."""


@dataclass
class Step:
    """One resumable unit of work. `argv` runs as a process in `cwd` with `env` added; steps
    with no argv run `action` (file writes, the self-test) and show `shows` instead. `done`
    must be cheap and never touch the network: dry-run and doctor call it."""

    description: str
    done: Callable[[], bool]
    argv: Optional[list[str]] = None
    cwd: Optional[Path] = None
    env: dict[str, str] = field(default_factory=dict)
    action: Optional[Callable[[], None]] = None
    shows: str = ""
    network: bool = False
    marker: Optional[Path] = None  # written after success (holds the profile's fingerprint)
    marker_text: str = ""

    def command_text(self) -> str:
        if self.argv is None:
            return self.shows
        prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in self.env.items() if k != "PATH")
        return prefix + shlex.join(self.argv)

    def is_done(self) -> bool:
        try:
            return bool(self.done())
        except OSError:
            return False


def _marker_done(marker: Path, text: str) -> Callable[[], bool]:
    return lambda: marker.exists() and marker.read_text() == text


def _file_is(path: Path, text: str) -> Callable[[], bool]:
    return lambda: path.exists() and path.read_text() == text


def toolchain_dirname(toolchain: str) -> str:
    """elan's directory for a toolchain: leanprover/lean4:v4.9.0 -> leanprover--lean4---v4.9.0."""
    return toolchain.replace("/", "--").replace(":", "---")


class Workspace:
    """Where one profile lives, and the paths every step and the doctor agree on."""

    def __init__(self, profile: Profile, settings: Settings, elan_on_path: Optional[str] = None):
        self.profile = profile
        self.cache = Path(settings.cache)
        self.root = profile_dir(settings.cache, profile.name)
        self.elan_home = self.cache / "elan"
        own_elan = self.elan_home / "bin" / "elan"
        # An elan already installed (ours, or one on PATH) is used as is, with ELAN_HOME pointed at the cache.
        self.elan = str(own_elan) if own_elan.exists() or not elan_on_path else elan_on_path
        self.installs_elan = not own_elan.exists() and not elan_on_path
        self.toolchain_bin = self.elan_home / "toolchains" / toolchain_dirname(profile.toolchain) / "bin"
        self.lake = str(self.toolchain_bin / "lake")
        self.project = self.root / "project"
        self.repl_dir = self.root / "repl"
        self.repl_exe = self.repl_dir / ".lake" / "build" / "bin" / "repl"
        self.lean_wrapper = self.root / "bin" / "lean"
        self.repl_wrapper = self.root / "bin" / "repl"
        self.settings_file = self.root / "settings.json"
        self.markers = self.root / ".prover"

    def env(self) -> dict[str, str]:
        path = os.pathsep.join([str(self.elan_home / "bin"), str(self.toolchain_bin), os.environ.get("PATH", "")])
        return {"ELAN_HOME": str(self.elan_home), "PATH": path}

    def marker(self, key: str) -> Path:
        return self.markers / f"{key}.done"

    def settings_payload(self) -> dict:
        # Mathlib maps ~5 GB of .oleans at import and needs 9-12 GB of address space (Kimina Lean
        # Server #68): the bundled logic environment's 4 GB defaults would abort every check.
        return {"lean": str(self.lean_wrapper), "repl": str(self.repl_wrapper), "workspace": str(self.project),
                "memory_mb": 12288, "address_space_mb": 32768, "timeout": 300.0,
                "profile_pins": self.profile.fingerprint()}


# -- the Lake project ----------------------------------------------------------------------
def lakefile_text(profile: Profile) -> str:
    return (
        "-- Written by `prover setup " + profile.name + "`: Mathlib pinned to one commit; its own\n"
        "-- lake-manifest.json pins the transitive dependencies (batteries, aesop, ...).\n"
        "import Lake\nopen Lake DSL\n\n"
        "package prover_workspace\n\n"
        f'require mathlib from git\n  "{profile.mathlib_url}" @ "{profile.mathlib_rev}"\n\n'
        "-- `lake build` builds this one-line library, so every Mathlib module it needs is built\n"
        "-- (a no-op where `lake exe cache get` downloaded them).\n"
        "@[default_target]\nlean_lib ProverWorkspace\n"
    )


def project_files(profile: Profile) -> dict[str, str]:
    return {
        "lean-toolchain": profile.toolchain + "\n",
        "lakefile.lean": lakefile_text(profile),
        "ProverWorkspace.lean": "import Mathlib\n",
    }


def manifest_pins_mathlib(project: Path, rev: str) -> bool:
    """lake-manifest.json has mathlib at `rev` and the package is checked out."""
    manifest = project / "lake-manifest.json"
    if not manifest.exists() or not (project / ".lake" / "packages" / "mathlib").is_dir():
        return False
    try:
        packages = json.loads(manifest.read_text()).get("packages", [])
    except (ValueError, AttributeError):
        return False
    return any(p.get("name") == "mathlib" and p.get("rev") == rev for p in packages)


def git_head_is(repo: Path, rev: str) -> bool:
    if not (repo / ".git").exists() or not shutil.which("git"):
        return False
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    return proc.returncode == 0 and proc.stdout.strip() == rev


def wrapper_text(profile: Profile, exe: str, lean_path: str, sysroot: str) -> str:
    return (
        "#!/bin/sh\n"
        f"# Written by `prover setup {profile.name}`: {Path(exe).name} for {profile.toolchain} with the workspace's\n"
        "# Mathlib, in the environment `lake env` would give it, fixed at setup so the sandboxed\n"
        "# Checker runs no lake or elan. Pins: " + profile.fingerprint() + "\n"
        f"LEAN_PATH={shlex.quote(lean_path)}\nLEAN_SYSROOT={shlex.quote(sysroot)}\nexport LEAN_PATH LEAN_SYSROOT\n"
        f"exec {shlex.quote(exe)} \"$@\"\n"
    )


# -- the plan ------------------------------------------------------------------------------
def plan(profile: Profile, settings: Settings, elan_on_path: Optional[str] = None,
         selftest: Optional[Callable[[], None]] = None) -> list[Step]:
    """Every step of installing `profile`, in order. Nothing runs here."""
    ws = Workspace(profile, settings, elan_on_path)
    env = ws.env()
    fp = profile.fingerprint()
    elan_exe = Path(ws.elan)
    steps: list[Step] = []
    if ws.installs_elan:
        installer = ws.elan_home / "elan-init.sh"
        steps.append(Step("download the elan installer",
                          done=lambda: elan_exe.exists() or installer.exists(),
                          argv=["curl", "-sSfL", "--retry", "3", "--create-dirs", "-o", str(installer), ELAN_INSTALLER_URL],
                          cwd=ws.cache, network=True))
        steps.append(Step(f"install elan into {ws.elan_home} (no shell profile edits, no default toolchain)",
                          done=elan_exe.exists,
                          argv=["sh", str(installer), "-y", "--no-modify-path", "--default-toolchain", "none"],
                          cwd=ws.cache, env={"ELAN_HOME": env["ELAN_HOME"]}, network=True))
    steps.append(Step(f"install Lean {profile.toolchain}",
                      done=(ws.toolchain_bin / "lean").exists,
                      argv=[ws.elan, "toolchain", "install", profile.toolchain],
                      cwd=ws.cache, env={"ELAN_HOME": env["ELAN_HOME"]}, network=True))

    files = project_files(profile)

    def write_project() -> None:
        ws.project.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (ws.project / name).write_text(text)

    steps.append(Step("write the Lake project (lean-toolchain, lakefile.lean requiring Mathlib at its rev, ProverWorkspace.lean)",
                      done=lambda: all(_file_is(ws.project / n, t)() for n, t in files.items()),
                      action=write_project, shows=f"write {', '.join(files)} in {ws.project}", cwd=ws.project))
    steps.append(Step(f"fetch Mathlib {profile.mathlib_rev[:12]} and its dependencies (writes lake-manifest.json)",
                      done=lambda: manifest_pins_mathlib(ws.project, profile.mathlib_rev),
                      argv=[ws.lake, "update"], cwd=ws.project, env=env, network=True))
    for key, desc, argv, net in (
        ("cache-get", "download Mathlib's prebuilt .olean files", [ws.lake, "exe", "cache", "get"], True),
        ("build-mathlib", "build what the cache did not provide (a no-op when it had everything; a fork may compile for hours)",
         [ws.lake, "build"], False),
    ):
        m = ws.marker(key)
        steps.append(Step(desc, done=_marker_done(m, fp), argv=argv, cwd=ws.project, env=env, network=net,
                          marker=m, marker_text=fp))

    steps.append(Step(f"clone the REPL from {profile.repl_url}", done=(ws.repl_dir / ".git").exists,
                      argv=["git", "clone", profile.repl_url, str(ws.repl_dir)], cwd=ws.root, network=True))
    steps.append(Step(f"check out REPL {profile.repl_rev[:12]}", done=lambda: git_head_is(ws.repl_dir, profile.repl_rev),
                      argv=["git", "-C", str(ws.repl_dir), "checkout", "--detach", profile.repl_rev], cwd=ws.root))
    repl_toolchain = ws.repl_dir / "lean-toolchain"

    def pin_repl_toolchain() -> None:
        repl_toolchain.write_text(profile.toolchain + "\n")

    steps.append(Step(f"pin the REPL's lean-toolchain to {profile.toolchain}",
                      done=_file_is(repl_toolchain, profile.toolchain + "\n"),
                      action=pin_repl_toolchain, shows=f"write {repl_toolchain}", cwd=ws.repl_dir))
    steps.append(Step(f"build the REPL with {profile.toolchain}", done=_marker_done(ws.marker("build-repl"), fp),
                      argv=[ws.lake, "build"], cwd=ws.repl_dir, env=env, marker=ws.marker("build-repl"), marker_text=fp))

    def write_wrapper() -> None:
        proc = subprocess.run([ws.lake, "env", "printenv", "LEAN_PATH"], cwd=ws.project, env={**os.environ, **env},
                              capture_output=True, text=True)
        if proc.returncode != 0 or not proc.stdout.strip():
            raise SetupError(f"`lake env printenv LEAN_PATH` failed in {ws.project}: {proc.stderr.strip()[-500:]}")
        ws.lean_wrapper.parent.mkdir(parents=True, exist_ok=True)
        for wrapper, exe in ((ws.lean_wrapper, ws.toolchain_bin / "lean"), (ws.repl_wrapper, ws.repl_exe)):
            wrapper.write_text(wrapper_text(profile, str(exe), proc.stdout.strip(), str(ws.toolchain_bin.parent)))
            wrapper.chmod(0o755)

    m = ws.marker("wrappers")
    steps.append(Step("write bin/lean and bin/repl: Lean and the REPL with the project's LEAN_PATH and LEAN_SYSROOT baked in",
                      done=lambda: ws.lean_wrapper.exists() and ws.repl_wrapper.exists() and _marker_done(m, fp)(),
                      action=write_wrapper,
                      shows=f"write {ws.lean_wrapper} and {ws.repl_wrapper.name} with LEAN_PATH from: "
                            + shlex.join([ws.lake, "env", "printenv", "LEAN_PATH"]),
                      cwd=ws.project, marker=m, marker_text=fp))
    payload = json.dumps(ws.settings_payload(), indent=2) + "\n"
    steps.append(Step(f"write {ws.settings_file.name} (what PROVER_PROFILE={profile.name} loads: lean, repl, workspace)",
                      done=_file_is(ws.settings_file, payload), action=lambda: ws.settings_file.write_text(payload),
                      shows=f"write {ws.settings_file}", cwd=ws.root))
    m = ws.marker("selftest")
    steps.append(Step(f"self-test: a MiniF2F proof of {theorem_name(profile)} must be proved, a wrong one rejected",
                      done=_marker_done(m, fp), action=selftest or (lambda: run_selftest(profile, settings)),
                      shows=f"check {theorem_name(profile)} with PROVER_PROFILE={profile.name} (cli backend; repl too when installed)",
                      cwd=ws.root, marker=m, marker_text=fp))
    return steps


def theorem_name(profile: Profile) -> str:
    return profile.selftest_statement.split()[1]


# -- the self-test -------------------------------------------------------------------------
def selftest_backends() -> list[str]:
    """cli always (the reference); repl too once its backend exists in this package."""
    import importlib.util

    return ["cli"] + (["repl"] if importlib.util.find_spec("lean_env.backends.repl") else [])


def run_selftest(profile: Profile, settings: Settings) -> None:
    from lean_env.checker import Checker
    from lean_env.verdict import ProofTask

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


# -- connectivity --------------------------------------------------------------------------
def reachable(url: str, timeout: float = 5.0) -> bool:
    """Does an HTTPS request to `url` get any answer within `timeout` seconds (honouring the
    *_proxy variables, as git, curl and elan do)? Run in a thread: name resolution can hang
    longer than any socket timeout."""
    result: list[bool] = []

    def probe() -> None:
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
            result.append(True)
        except urllib.error.HTTPError:
            result.append(True)  # an HTTP error status is still an answer
        except Exception:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 1.0)
    return bool(result and result[0])


def first_unreachable(probe: Callable[[str], bool] = reachable, urls: Iterable[str] = NETWORK_URLS) -> Optional[str]:
    """The first URL that does not answer (stop there: offline costs one timeout, not several)."""
    return next((u for u in urls if not probe(u)), None)


# -- running -------------------------------------------------------------------------------
def describe(steps: list[Step]) -> list[str]:
    """The dry-run text: every step, numbered, with its exact command, directory and state."""
    lines = []
    for i, s in enumerate(steps, 1):
        lines.append(f"{i:2d}. [{'done' if s.is_done() else 'todo'}] {s.description}")
        lines.append(f"      $ {s.command_text()}")
        if s.cwd is not None:
            lines.append(f"      in {s.cwd}")
    return lines


def run_steps(steps: list[Step], say: Callable[[str], None] = print,
              probe: Callable[[str], bool] = reachable) -> None:
    """Run every step not yet done, in order. Before the first pending network step, check
    GitHub is reachable (fast, clear failure offline instead of a hang in git or curl)."""
    pending = [s for s in steps if not s.is_done()]
    if any(s.network for s in pending):
        if first_unreachable(probe):
            raise SetupError(OFFLINE_MESSAGE)
        tools = sorted({t for t in ("git", "curl") if not shutil.which(t)})
        if tools:
            raise SetupError(f"prover setup needs {' and '.join(tools)} on PATH (Lake fetches with git, Mathlib's cache with curl)")
    for i, s in enumerate(steps, 1):
        if s.is_done():
            say(f"{i:2d}. [done] {s.description}")
            continue
        say(f"{i:2d}. [run ] {s.description}\n      $ {s.command_text()}")
        if s.argv is not None:
            if s.cwd is not None:
                s.cwd.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(s.argv, cwd=s.cwd, env={**os.environ, **s.env})
            if proc.returncode != 0:
                raise SetupError(f"step {i} failed (exit {proc.returncode}): {s.description}. Fix the cause and "
                                 "run the same command again: finished steps are skipped")
        else:
            assert s.action is not None
            try:
                s.action()
            except SetupError as exc:
                raise SetupError(f"step {i} failed: {exc}") from exc
        if s.marker is not None:
            s.marker.parent.mkdir(parents=True, exist_ok=True)
            s.marker.write_text(s.marker_text)


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise SetupError(f"unknown profile {name!r}; profiles: bundled, {', '.join(PROFILES)}") from None


# -- prover doctor -------------------------------------------------------------------------
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
