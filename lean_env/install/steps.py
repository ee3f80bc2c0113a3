"""Installing a profile as a plan of resumable steps: a second run (or one after a failure)
resumes where the first stopped, `--dry-run` prints exactly what would run, and a preflight
fails fast and clearly offline or without a tool instead of hanging in git or curl."""
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

from lean_env.install.profiles import Profile, SetupError, theorem_name
from lean_env.install.selftest import run_selftest
from lean_env.install.workspace import (MATHLIB_RECYCLE_RSS_MB, MATHLIB_WORKER_MB, Workspace, git_head_is,
                                       manifest_pins_mathlib, project_files, record_verified_here, wrapper_text)
from lean_env.running.settings import Settings

ELAN_INSTALLER_URL = "https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh"

# The hosts the network steps download from (each step names its own; see Step.hosts).
GITHUB = "https://github.com"  # git clones, Lean and elan releases, ProofWidgets' and leantar's release files
RAW_GITHUB = "https://raw.githubusercontent.com"  # elan's installer script
MATHLIB_CACHE = "https://lakecache.blob.core.windows.net"  # Mathlib's prebuilt .olean files (`lake exe cache get`)
NETWORK_URLS = (GITHUB, RAW_GITHUB, MATHLIB_CACHE)

# What elan-init.sh checks for (`need_cmd`) plus the tar it unpacks elan with.
ELAN_INSTALLER_TOOLS = ("curl", "awk", "uname", "mktemp", "tar", "sh")

# where the flush commit (profiles.REPL_FLUSH_COMMIT) is fetched from
UPSTREAM_REPL_URL = "https://github.com/leanprover-community/repl.git"
OFFLINE_MESSAGE = (
    "prover setup needs internet access to GitHub to download Lean, Mathlib and the REPL; this "
    "machine has none. Run it where there is, or point PROVER_LEAN/PROVER_REPL at an existing install"
)


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
    back as it was and the profile's REPL is read through a pty instead (lean_env.running.backends.repl)."""
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
