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
# The hosts the network steps download from (each step names its own; see Step.hosts).
GITHUB = "https://github.com"  # git clones, Lean and elan releases, ProofWidgets' and leantar's release files
RAW_GITHUB = "https://raw.githubusercontent.com"  # elan's installer script
MATHLIB_CACHE = "https://lakecache.blob.core.windows.net"  # Mathlib's prebuilt .olean files (`lake exe cache get`)
NETWORK_URLS = (GITHUB, RAW_GITHUB, MATHLIB_CACHE)
# What elan-init.sh checks for (`need_cmd`) plus the tar it unpacks elan with.
ELAN_INSTALLER_TOOLS = ("curl", "awk", "uname", "mktemp", "tar", "sh")
# upstream leanprover-community/repl commit 4fc1e6d (PR #49, "avoid buffering stdout to ensure
# immediate replies"): a REPL without it never flushes stdout (see lean_env.backends.repl).
UPSTREAM_REPL_URL = "https://github.com/leanprover-community/repl.git"
REPL_FLUSH_COMMIT = "4fc1e6d1dda170e8f0a6b698dd5f7e17a9cf52b4"
OFFLINE_MESSAGE = (
    "prover setup needs internet access to GitHub to download Lean, Mathlib and the REPL; this "
    "machine has none. Run it where there is, or point PROVER_LEAN/PROVER_REPL at an existing install"
)
# Sizing written to a profile's settings.json. A REPL or `lean` holding Mathlib sits at 5-7 GB of
# RSS: recycle a worker past 10 GB (not the bundled 8 GB, which would restart it, and re-import
# Mathlib, every few checks), bound Lean itself at 12 GB, and count 12 GB per worker when sizing
# the default number of workers from the machine's memory (lean_env.settings.default_workers).
MATHLIB_RECYCLE_RSS_MB = 10240
MATHLIB_MEMORY_MB = 12288
MATHLIB_WORKER_MB = 12288
MATHLIB_TIMEOUT_S = 300.0  # per check, as DeepSeek-Prover and Goedel-Prover verify


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
    # Whether `lake exe cache get` serves this Mathlib. Mathlib's cache keys mix in the hashes
    # of its lakefile.lean, lean-toolchain and lake-manifest.json, so a fork that changed them
    # (DeepSeek's added the REPL as a dependency) gets nothing: all of Mathlib is compiled.
    mathlib_cache: bool = True
    # The upstream commit that makes this REPL flush each answer, when its rev lacks it.
    repl_flush_commit: str = ""
    # Whether tactic responses carry `proofStatus` (REPL PR #63); without it tactic search
    # falls back to whole-file checks (search.tactic_env).
    repl_proof_status: bool = True

    def fingerprint(self) -> str:
        flush = f"+{self.repl_flush_commit[:7]}" if self.repl_flush_commit else ""
        return f"{self.toolchain} mathlib@{self.mathlib_rev} repl@{self.repl_rev}{flush}"


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
            mathlib_cache=False,  # the fork's lakefile requires REPL: no cache key matches
            repl_flush_commit=REPL_FLUSH_COMMIT,  # 3334a97b ends each answer with an unflushed `IO.println ""`
            repl_proof_status=False,  # the fork predates REPL PR #63
            **_SELFTEST,
        ),
    )
}


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
    "deepseek-v1.5": (
        ("flush commit, pty fallback", "CI", "a local upstream/fork pair of git repos: the commit applies, or "
                                             "conflicts and the clone is reset with repl_stdout = pty (tests/test_setup.py)"),
        ("old-REPL behaviours", "CI", "a stand-in with block-buffered stdout, no proofStatus and the ast field: "
                                      "the pty and whole-file fallbacks work against it (tests/test_repl_old.py)"),
    ),
}
NOT_VERIFIED = {
    "minif2f-v4.24": ("the real install (elan, lake update, cache get, lake build, REPL build, self-test) has not "
                      "been run in CI (no GitHub there); a machine that runs it records it below"),
    "deepseek-v1.5": ("the real install has not been run in CI; that upstream's flush commit applies to the fork "
                      "(setup falls back to a pty if not), the fork's full Mathlib build time, and the REPL's "
                      "answers under Lean v4.9 are known from reading the repositories only"),
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
    hosts: tuple[str, ...] = ()  # what a network step downloads from (probed before any step runs)
    tools: tuple[str, ...] = ()  # programs it needs on PATH (checked before any step runs)

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


def _inherited(name: str) -> bool:
    """Whether a variable of the user's shell may reach a setup process. Lean and Lake read
    LEAN_PATH, LEAN_SYSROOT, LAKE_* and ELAN_TOOLCHAIN; `lake env` keeps a LEAN_PATH it finds, so
    one exported for another project would be baked into bin/lean and bin/repl."""
    return not (name.startswith(("LEAN_", "LAKE")) or name == "ELAN_TOOLCHAIN")


def step_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a setup process: the user's, without Lean/Lake variables, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if _inherited(k)}, **extra}


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

    def repl_stdout(self) -> str:
        """pipe where the REPL flushes each answer (its own rev, or upstream's commit applied), pty
        where the flush commit could not be applied (see the `flush` step)."""
        if not self.profile.repl_flush_commit:
            return "pipe"
        m = self.marker("repl-flush")
        return "pty" if m.exists() and m.read_text().startswith("pty") else "pipe"

    def settings_payload(self) -> dict:
        # Mathlib maps ~5 GB of .oleans at import and needs 9-12 GB of address space (Kimina Lean
        # Server #68): the bundled logic environment's 4 GB defaults would abort every check.
        return {"lean": str(self.lean_wrapper), "repl": str(self.repl_wrapper), "workspace": str(self.project),
                "memory_mb": MATHLIB_MEMORY_MB, "address_space_mb": 32768, "timeout": MATHLIB_TIMEOUT_S,
                "recycle_rss_mb": MATHLIB_RECYCLE_RSS_MB, "worker_mb": MATHLIB_WORKER_MB,
                "repl_stdout": self.repl_stdout(), "profile_pins": self.profile.fingerprint()}


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
                          cwd=ws.cache, network=True, hosts=(RAW_GITHUB,), tools=("curl",)))
        steps.append(Step(f"install elan into {ws.elan_home} (no shell profile edits, no default toolchain)",
                          done=elan_exe.exists,
                          argv=["sh", str(installer), "-y", "--no-modify-path", "--default-toolchain", "none"],
                          cwd=ws.cache, env={"ELAN_HOME": env["ELAN_HOME"]}, network=True, hosts=(GITHUB,),
                          tools=ELAN_INSTALLER_TOOLS))
    steps.append(Step(f"install Lean {profile.toolchain}",
                      done=(ws.toolchain_bin / "lean").exists,
                      argv=[ws.elan, "toolchain", "install", profile.toolchain],
                      cwd=ws.cache, env={"ELAN_HOME": env["ELAN_HOME"]}, network=True, hosts=(GITHUB,)))

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
                      argv=[ws.lake, "update"], cwd=ws.project, env=env, network=True, hosts=(GITHUB,), tools=("git",)))
    if profile.mathlib_cache:
        m = ws.marker("cache-get")
        # Cache fetches its decompressor (leantar) from GitHub releases, then the files with curl.
        steps.append(Step("download Mathlib's prebuilt .olean files", done=_marker_done(m, fp),
                          argv=[ws.lake, "exe", "cache", "get"], cwd=ws.project, env=env, network=True,
                          hosts=(GITHUB, MATHLIB_CACHE), tools=("curl",), marker=m, marker_text=fp))
        build = "build what the cache did not provide (about nothing when it had every file)"
    else:
        build = ("build ALL of Mathlib: its cache serves no file of this fork (the cache keys hash the fork's "
                 "changed lakefile.lean and lake-manifest.json); thousands of files, hours even on many cores")
    m = ws.marker("build-mathlib")
    # ProofWidgets' build fetches its prebuilt JavaScript from its GitHub release (curl, tar).
    steps.append(Step(build, done=_marker_done(m, fp), argv=[ws.lake, "build"], cwd=ws.project, env=env,
                      network=True, hosts=(GITHUB,), tools=("git", "curl", "tar"), marker=m, marker_text=fp))

    steps.append(Step(f"clone the REPL from {profile.repl_url}", done=(ws.repl_dir / ".git").exists,
                      argv=["git", "clone", profile.repl_url, str(ws.repl_dir)], cwd=ws.root, network=True,
                      hosts=(GITHUB,), tools=("git",)))
    steps.append(Step(f"check out REPL {profile.repl_rev[:12]}", done=lambda: git_head_is(ws.repl_dir, profile.repl_rev),
                      argv=["git", "-C", str(ws.repl_dir), "checkout", "--detach", profile.repl_rev], cwd=ws.root,
                      tools=("git",)))
    if profile.repl_flush_commit:
        steps += flush_steps(profile, ws)
    repl_toolchain = ws.repl_dir / "lean-toolchain"

    def pin_repl_toolchain() -> None:
        repl_toolchain.write_text(profile.toolchain + "\n")

    steps.append(Step(f"pin the REPL's lean-toolchain to {profile.toolchain}",
                      done=_file_is(repl_toolchain, profile.toolchain + "\n"),
                      action=pin_repl_toolchain, shows=f"write {repl_toolchain}", cwd=ws.repl_dir))
    steps.append(Step(f"build the REPL with {profile.toolchain}", done=_marker_done(ws.marker("build-repl"), fp),
                      argv=[ws.lake, "build"], cwd=ws.repl_dir, env=env, marker=ws.marker("build-repl"), marker_text=fp))

    def write_wrapper() -> None:
        proc = subprocess.run([ws.lake, "env", "printenv", "LEAN_PATH"], cwd=ws.project, env=step_env(env),
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
                            + shlex.join([ws.lake, "env", "printenv", "LEAN_PATH"])
                            + " (run without the LEAN_*/LAKE_* variables of this shell)",
                      cwd=ws.project, marker=m, marker_text=fp))

    def payload() -> str:
        return json.dumps(ws.settings_payload(), indent=2) + "\n"

    steps.append(Step(f"write {ws.settings_file.name} (what PROVER_PROFILE={profile.name} loads: lean, repl, workspace, "
                      f"sizing: recycle past {MATHLIB_RECYCLE_RSS_MB} MB RSS, {MATHLIB_WORKER_MB} MB per default worker)",
                      done=lambda: _file_is(ws.settings_file, payload())(),
                      action=lambda: ws.settings_file.write_text(payload()),
                      shows=f"write {ws.settings_file}", cwd=ws.root))
    m = ws.marker("selftest")

    def selftest_and_record() -> None:
        (selftest or (lambda: run_selftest(profile, settings)))()
        record_verified_here(ws)

    steps.append(Step(f"self-test: a MiniF2F proof of {theorem_name(profile)} must be proved, a wrong one rejected",
                      done=_marker_done(m, fp), action=selftest_and_record,
                      shows=f"check {theorem_name(profile)} with PROVER_PROFILE={profile.name} (cli backend; repl too when installed)",
                      cwd=ws.root, marker=m, marker_text=fp))
    return steps


def flush_steps(profile: Profile, ws: "Workspace") -> list[Step]:
    """Fetch upstream's flush commit into the REPL clone and apply it on top of the pinned rev
    (without committing: HEAD stays the pin). If it does not apply to this fork, the clone is put
    back as it was and the profile's REPL is read through a pty instead (lean_env.backends.repl)."""
    commit, repo, m = profile.repl_flush_commit, ws.repl_dir, ws.marker("repl-flush")
    git = ["git", "-C", str(repo)]
    pick = git + ["-c", "user.name=prover setup", "-c", "user.email=prover-setup@localhost",
                  "cherry-pick", "--no-commit", commit]

    def has_commit() -> bool:
        if not (repo / ".git").exists():
            return False
        return subprocess.run(git + ["cat-file", "-e", commit + "^{commit}"], capture_output=True).returncode == 0

    def apply() -> None:
        proc = subprocess.run(pick, capture_output=True, text=True, env=step_env({}))
        if proc.returncode == 0:
            m.parent.mkdir(parents=True, exist_ok=True)
            m.write_text(f"applied {commit}")
            return
        subprocess.run(git + ["cherry-pick", "--abort"], capture_output=True)
        subprocess.run(git + ["reset", "--hard", "--quiet", profile.repl_rev], capture_output=True)
        m.parent.mkdir(parents=True, exist_ok=True)
        m.write_text(f"pty: {commit[:7]} did not apply: {(proc.stderr or proc.stdout).strip()[-300:]}")
        print(f"   upstream's flush commit {commit[:7]} does not apply to this REPL; the repl backend will read "
              "its answers through a pty instead (settings.json: repl_stdout = pty)")

    return [
        Step(f"fetch upstream's flush commit {commit[:7]} (repl#49: without it the REPL never flushes stdout, and "
             "every check over a pipe waits until its timeout)",
             done=has_commit, argv=git + ["fetch", "--quiet", UPSTREAM_REPL_URL, commit], cwd=ws.root,
             network=True, hosts=(GITHUB,), tools=("git",)),
        Step(f"apply it on top of REPL {profile.repl_rev[:12]} (uncommitted; if it does not apply, answers are read "
             "through a pty instead)",
             done=m.exists, action=apply, shows=shlex.join(pick), cwd=repo, tools=("git",)),
    ]


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


class OfflineError(SetupError):
    """A host a pending step downloads from does not answer."""


def preflight(pending: list[Step], probe: Callable[[str], bool] = reachable,
              which: Callable[[str], Optional[str]] = shutil.which) -> None:
    """Before anything runs: every host the pending steps download from answers, and every tool
    they run is on PATH. GitHub first: offline, one probe and one clear message."""
    hosts = sorted({h for s in pending if s.network for h in s.hosts or (GITHUB,)}, key=lambda h: (h != GITHUB, h))
    down = first_unreachable(probe, hosts)
    if down == GITHUB:
        raise OfflineError(OFFLINE_MESSAGE)
    if down:
        users = "; ".join(s.description.split(" (")[0] for s in pending if s.network and down in s.hosts)
        raise OfflineError(f"prover setup cannot reach {down}, which these steps download from: {users}. "
                           "Allow it through the firewall or proxy (https_proxy is honoured) and run this again")
    missing = sorted({t for s in pending for t in s.tools if not which(t)})
    if missing:
        needs = {t: next(s.description.split(" (")[0] for s in pending if t in s.tools) for t in missing}
        raise SetupError("prover setup needs these programs on PATH: "
                         + ", ".join(f"{t} (for: {d})" for t, d in needs.items())
                         + ". Install them (e.g. apt-get install git curl tar gawk coreutils) and run this again")


# -- running -------------------------------------------------------------------------------
def describe(steps: list[Step]) -> list[str]:
    """The dry-run text: every step, numbered, with its exact command, directory and state."""
    lines = []
    for i, s in enumerate(steps, 1):
        lines.append(f"{i:2d}. [{'done' if s.is_done() else 'todo'}] {s.description}")
        lines.append(f"      $ {s.command_text()}")
        if s.cwd is not None:
            lines.append(f"      in {s.cwd}")
        net = "network: " + ", ".join(h.split("://")[1] for h in s.hosts or (GITHUB,)) if s.network else "offline"
        lines.append(f"      {net}" + (f"; needs {', '.join(s.tools)}" if s.tools else ""))
    return lines


def run_steps(steps: list[Step], say: Callable[[str], None] = print,
              probe: Callable[[str], bool] = reachable) -> None:
    """Run every step not yet done, in order, after preflight() (a fast, clear failure offline or
    without a tool, instead of a hang in git or curl, or a failure hours into a build)."""
    preflight([s for s in steps if not s.is_done()], probe)
    for i, s in enumerate(steps, 1):
        if s.is_done():
            say(f"{i:2d}. [done] {s.description}")
            continue
        say(f"{i:2d}. [run ] {s.description}\n      $ {s.command_text()}")
        if s.argv is not None:
            if s.cwd is not None:
                s.cwd.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(s.argv, cwd=s.cwd, env=step_env(s.env))
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


def profile_notes(profile: Profile) -> list[str]:
    """What is known to be slow or missing with this profile, from reading its repositories."""
    notes = []
    if not profile.mathlib_cache:
        notes.append("slow: Mathlib's cache serves no file of this fork, so setup compiles all of Mathlib "
                     "(hours even on many cores; the build also downloads ProofWidgets' release from GitHub)")
    if profile.repl_flush_commit:
        notes.append(f"REPL {profile.repl_rev[:7]} never flushes its answers: setup applies upstream's "
                     f"{profile.repl_flush_commit[:7]} (repl#49), else the repl backend reads them through a pty")
    if not profile.repl_proof_status:
        notes.append("REPL without proofStatus (before repl#63): tactic search (--search bfs with the repl "
                     "checker) decides finished-looking states by a whole-file check, one extra check each")
    notes.append("the header's `set_option maxHeartbeats` does not reach REPL tactic mode (repl#69): the "
                 "REPL tactic env sends each tactic under the header's value")
    return notes


def verified_lines(profile: Profile, settings: Settings) -> list[str]:
    """The profile's record: what CI verified, what it could not, and any real install here."""
    lines = [f"verified ({where}): {what}: {how}" for what, where, how in VERIFIED_CI + VERIFIED_PROFILE.get(profile.name, ())]
    lines.append(f"not verified in CI: {NOT_VERIFIED[profile.name]}")
    here = verified_here(Workspace(profile, settings))
    lines.append(f"verified on this machine: {here}" if here else "verified on this machine: nothing yet (no finished self-test)")
    return lines


def record_verified_here(ws: Workspace) -> None:
    """After a passing self-test: what ran, where and when (`prover doctor` shows it)."""
    import platform
    import time

    ws.markers.mkdir(parents=True, exist_ok=True)
    (ws.markers / "verified.json").write_text(json.dumps({
        "profile": ws.profile.name, "pins": ws.profile.fingerprint(), "host": platform.node(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "repl_stdout": ws.repl_stdout(),
        "what": "real install: every setup step, then the self-test (a right proof proved, a wrong one rejected)",
    }, indent=2) + "\n")


def verified_here(ws: Workspace) -> str:
    try:
        rec = json.loads((ws.markers / "verified.json").read_text())
    except (OSError, ValueError):
        return ""
    if rec.get("pins") != ws.profile.fingerprint():
        return f"an install of other pins ({rec.get('pins')}) on {rec.get('when')}; run `prover setup {ws.profile.name}`"
    return f"{rec.get('what')} on {rec.get('host')} at {rec.get('when')} (REPL stdout: {rec.get('repl_stdout')})"


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
