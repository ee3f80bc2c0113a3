"""`prover setup PROFILE`: the plan, dry-run, resume, offline failure, doctor rows, profile
settings, and (with the bundled Lean standing in for a profile's Lean) the wrapper + self-test."""
from __future__ import annotations

from tests.shared_data import SHARED
import dataclasses
import http.server
import json
import re
import socket
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lean_env.install import profiles, selftest, status, workspace
from lean_env.install import steps as setup_steps
from lean_env.running.settings import Settings, profile_dir
from prover.cli import app
from prover.commands.setup import run_setup

SHARED_MINIF2F = SHARED / "minif2f"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PROVER_CACHE", str(tmp_path / "cache"))
    for var in ("PROVER_PROFILE", "PROVER_LEAN"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "cache"


def settings_for(cache: Path) -> Settings:
    return Settings.from_env(cache=str(cache))


# -- the profiles --------------------------------------------------------------------------
@pytest.mark.parametrize("profile", profiles.PROFILES.values(), ids=list(profiles.PROFILES))
def test_profiles_pin_full_commits_and_a_real_minif2f_statement(profile):
    assert re.fullmatch(r"[0-9a-f]{40}", profile.mathlib_rev)
    assert re.fullmatch(r"[0-9a-f]{40}", profile.repl_rev)
    assert re.fullmatch(r"leanprover/lean4:v4\.\d+\.\d+(-rc\d+)?", profile.toolchain)
    assert profile.selftest_proof.strip() != profile.selftest_wrong_proof.strip()
    variant = SHARED_MINIF2F / f"{profile.dataset}.jsonl"
    if not variant.exists():
        pytest.skip("../shared/data is not on this machine")
    rows = {r["name"]: r for r in map(json.loads, variant.read_text().splitlines())}
    row = rows[profiles.theorem_name(profile)]
    assert row["formal_statement"] == profile.selftest_statement
    assert row["header"] == profile.header


def test_lakefile_requires_mathlib_at_the_pinned_rev():
    p = profiles.PROFILES["minif2f-v4.24"]
    files = workspace.project_files(p)
    assert files["lean-toolchain"] == "leanprover/lean4:v4.24.0\n"
    assert f'"{p.mathlib_url}" @ "{p.mathlib_rev}"' in files["lakefile.lean"]
    assert files["ProverWorkspace.lean"] == "import Mathlib\n"


def test_elan_toolchain_directory_name():
    assert workspace.toolchain_dirname("leanprover/lean4:v4.9.0-rc1") == "leanprover--lean4---v4.9.0-rc1"


# -- dry run -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(profiles.PROFILES))
def test_dry_run_prints_every_step_and_runs_nothing(cache, name, capsys):
    assert run_setup(name, dry_run=True, probe=lambda url: pytest.fail("dry-run must not probe")) == 0
    out = capsys.readouterr().out
    p = profiles.PROFILES[name]
    steps = setup_steps.plan(p, settings_for(cache))
    numbers = [int(m) for m in re.findall(r"^\s*(\d+)\. \[todo\]", out, re.MULTILINE)]
    assert numbers == list(range(1, len(steps) + 1))
    for needle in (p.toolchain, p.mathlib_rev, p.repl_rev, p.repl_url, "lake update",
                   "lake build", "git clone", "settings.json", profiles.theorem_name(p), f"in {cache}",
                   "verified (CI)", "not verified in CI", "verified on this machine: nothing yet"):
        assert needle in out, needle
    # the cache step only where Mathlib's cache serves the profile's Mathlib
    assert ("lake exe cache get" in out) == p.mathlib_cache
    assert ("ALL of Mathlib" in out) == (not p.mathlib_cache)
    assert (profiles.REPL_FLUSH_COMMIT in out) == bool(p.repl_flush_commit)
    assert not cache.exists()  # nothing written


def test_dry_run_says_which_hosts_and_tools_each_step_needs(cache, capsys):
    run_setup("minif2f-v4.24", dry_run=True)
    out = capsys.readouterr().out
    steps = re.split(r"\n(?=\s*\d+\. \[)", out)
    by_name = {re.sub(r"^\s*\d+\. \[todo\] ", "", s).split("\n")[0]: s for s in steps[1:]}
    cache_get = next(v for k, v in by_name.items() if k.startswith("download Mathlib's prebuilt"))
    assert "network: github.com, lakecache.blob.core.windows.net; needs curl" in cache_get
    build = next(v for k, v in by_name.items() if k.startswith("build what the cache"))
    assert "network: github.com; needs git, curl, tar" in build  # ProofWidgets' release: not offline
    elan = next(v for k, v in by_name.items() if k.startswith("install elan"))
    assert "needs curl, awk, uname, mktemp, tar, sh" in elan
    project = next(v for k, v in by_name.items() if k.startswith("write the Lake project"))
    assert project.rstrip().endswith("offline")


def test_the_fork_has_no_cache_step_and_builds_all_of_mathlib(cache):
    p = profiles.PROFILES["deepseek-v1.5"]
    steps = setup_steps.plan(p, settings_for(cache))
    assert not any("cache" in (s.argv or []) for s in steps)
    build = next(s for s in steps if s.argv and s.argv[-1] == "build" and s.cwd == workspace.Workspace(p, settings_for(cache)).project)
    assert build.network and "tar" in build.tools and build.description.startswith("build ALL of Mathlib")
    assert profiles.PROFILES["minif2f-v4.24"].mathlib_cache and not p.mathlib_cache


def test_dry_run_through_the_cli_and_list(cache, monkeypatch):
    monkeypatch.setenv("PROVER_PROFILE", "minif2f-v4.24")  # exported before it is installed: setup must still work
    runner = CliRunner()
    res = runner.invoke(app, ["setup", "minif2f-v4.24", "--dry-run"])
    assert res.exit_code == 0 and "1. [todo]" in res.output and "nothing is run" in res.output
    res = runner.invoke(app, ["setup", "--list"])
    assert res.exit_code == 0
    for name in ("bundled", *profiles.PROFILES):
        assert name in res.output
    assert runner.invoke(app, ["setup", "bundled", "--dry-run"]).exit_code == 0
    assert runner.invoke(app, ["setup", "no-such-profile"]).exit_code == 2


def test_dry_run_marks_finished_steps_done(cache, capsys):
    p = profiles.PROFILES["deepseek-v1.5"]
    steps = setup_steps.plan(p, settings_for(cache))
    write_project = next(s for s in steps if s.description.startswith("write the Lake project"))
    write_project.action()
    run_setup(p.name, dry_run=True)
    out = capsys.readouterr().out
    assert re.search(r"\[done\] write the Lake project", out)
    assert (profile_dir(cache, p.name) / "project" / "lakefile.lean").read_text() == workspace.lakefile_text(p)


# -- offline -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(profiles.PROFILES))
def test_offline_stops_before_any_step_with_a_clear_message(cache, name, capsys):
    probed = []
    rc = run_setup(name, probe=lambda url: probed.append(url) or False)
    assert rc == 3
    err = capsys.readouterr().err
    assert "needs internet access to GitHub" in err and "PROVER_LEAN/PROVER_REPL" in err
    assert probed == [setup_steps.GITHUB]  # one failed probe is enough
    assert not cache.exists()


def test_every_host_a_pending_step_needs_is_probed_first(cache, capsys):
    probed = []
    rc = run_setup("minif2f-v4.24", probe=lambda url: probed.append(url) or url != setup_steps.MATHLIB_CACHE)
    assert rc == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot reach https://lakecache.blob.core.windows.net" in err
    assert "download Mathlib's prebuilt .olean files" in err
    assert probed[0] == setup_steps.GITHUB and probed[-1] == setup_steps.MATHLIB_CACHE  # GitHub first; stop at the first silent host
    assert not cache.exists()  # nothing ran


def test_a_missing_tool_stops_before_any_step(cache):
    steps = setup_steps.plan(profiles.PROFILES["deepseek-v1.5"], settings_for(cache))
    with pytest.raises(profiles.SetupError, match=r"awk \(for: install elan.*tar \(for: install elan") as exc:
        setup_steps.preflight(steps, probe=lambda url: True, which=lambda t: None if t in ("tar", "awk") else "/usr/bin/" + t)
    assert not isinstance(exc.value, setup_steps.OfflineError)
    # with elan already there, tar is still needed: ProofWidgets' release is unpacked during the build
    later = [s for s in steps if not s.description.startswith(("download the elan", "install elan"))]
    with pytest.raises(profiles.SetupError, match=r"needs these programs on PATH: tar \(for: build ALL of Mathlib"):
        setup_steps.preflight(later, probe=lambda url: True, which=lambda t: None if t == "tar" else "/usr/bin/" + t)
    setup_steps.preflight(steps, probe=lambda url: True, which=lambda t: "/usr/bin/" + t)  # all there: passes
    assert not cache.exists()


def test_reachable_is_false_for_a_refused_connection():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    assert setup_steps.reachable(f"http://127.0.0.1:{port}/", timeout=2) is False


def test_reachable_gives_up_on_a_server_that_never_answers():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)  # accepts the TCP handshake (backlog), never replies
    try:
        assert setup_steps.reachable(f"http://127.0.0.1:{s.getsockname()[1]}/", timeout=0.5) is False
    finally:
        s.close()


def test_reachable_counts_an_http_error_status_as_online():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert setup_steps.reachable(f"http://127.0.0.1:{server.server_port}/", timeout=5) is True
    finally:
        server.shutdown()


# -- running and resuming ------------------------------------------------------------------
def _py_step(tmp: Path, name: str, code: str, network: bool = False) -> setup_steps.Step:
    target = tmp / name
    return setup_steps.Step(f"make {name}", done=target.exists, argv=[sys.executable, "-c", code], cwd=tmp, network=network)


def test_run_steps_resumes_after_a_failure(tmp_path):
    ok1 = _py_step(tmp_path, "a", "open('a','w').write('1')")
    bad = _py_step(tmp_path, "b", "import sys, os; sys.exit(0 if os.path.exists('fixed') else 7)")
    bad.done = lambda: (tmp_path / "fixed").exists() and (tmp_path / "b.ran").exists()
    bad.argv = [sys.executable, "-c", "import sys, os; os.path.exists('fixed') or sys.exit(7); open('b.ran','w')"]
    ok2 = _py_step(tmp_path, "c", "open('c','w').write('1')")
    marker = tmp_path / ".prover" / "c.done"
    ok2.marker, ok2.marker_text = marker, "fp"
    said: list[str] = []
    with pytest.raises(profiles.SetupError, match=r"step 2 failed \(exit 7\)"):
        setup_steps.run_steps([ok1, bad, ok2], say=said.append)
    assert (tmp_path / "a").exists() and not (tmp_path / "c").exists()
    (tmp_path / "fixed").write_text("")
    (tmp_path / "a").write_text("kept")
    said.clear()
    setup_steps.run_steps([ok1, bad, ok2], say=said.append)
    assert said[0].startswith(" 1. [done]") and said[1].startswith(" 2. [run ]")
    assert (tmp_path / "a").read_text() == "kept"  # not redone
    assert marker.read_text() == "fp"


def test_network_steps_probe_only_when_pending(tmp_path):
    net = _py_step(tmp_path, "n", "open('n','w')", network=True)
    (tmp_path / "n").write_text("")  # already done: no probe, no run
    setup_steps.run_steps([net], say=lambda s: None, probe=lambda url: pytest.fail("probed although nothing is pending"))
    (tmp_path / "n").unlink()
    with pytest.raises(profiles.SetupError, match="needs internet"):
        setup_steps.run_steps([net], say=lambda s: None, probe=lambda url: False)
    assert not (tmp_path / "n").exists()


# -- settings and doctor -------------------------------------------------------------------
def test_prover_profile_loads_the_workspace_settings(cache, monkeypatch):
    d = profile_dir(cache, "minif2f-v4.24")
    d.mkdir(parents=True)
    (d / "settings.json").write_text(json.dumps({"lean": "/ws/bin/lean", "workspace": "/ws/project", "unknown": 1}))
    monkeypatch.setenv("PROVER_PROFILE", "minif2f-v4.24")
    assert Settings.from_env().lean == "/ws/bin/lean"
    assert Settings.from_env(lean="/mine").lean == "/mine"  # explicit settings win
    monkeypatch.setenv("PROVER_LEAN", "/env/lean")
    assert Settings.from_env().lean == "/env/lean"
    monkeypatch.setenv("PROVER_PROFILE", "deepseek-v1.5")
    with pytest.raises(FileNotFoundError, match="prover setup deepseek-v1.5"):
        Settings.from_env()


def test_doctor_rows_one_per_profile_with_the_fix(cache):
    s = settings_for(cache)
    rows = status.doctor_rows(s)
    assert [r[0] for r in rows] == [f"mathlib: {n}" for n in profiles.PROFILES]
    assert all("not installed" in r[1] and f"prover setup {n}" in r[2] for r, n in zip(rows, profiles.PROFILES))
    p = profiles.PROFILES["minif2f-v4.24"]
    steps = setup_steps.plan(p, s)
    next(x for x in steps if x.description.startswith("write the Lake project")).action()
    row = status.doctor_rows(s)[0]
    assert "partially installed" in row[1] and "next is step 1/" in row[1]
    assert "resumes" in row[2]


# -- real Lean: the wrapper, settings.json and self-test steps -----------------------------
LOGIC_PRELUDE = """prelude
unsafe axiom lcErased : Type
unsafe axiom lcProof {α : Prop} : α
unsafe axiom lcUnreachable {α : Sort u} : α
unsafe axiom lcAny : Type
inductive True : Prop where | intro : True
inductive And (a b : Prop) : Prop where | intro : a → b → And a b
"""


@pytest.fixture(scope="session")
def bundled_lean() -> Path:
    from lean_env.running.toolchain import find_toolchain

    return find_toolchain(Settings.from_env()).lean


@pytest.mark.lean
def test_local_steps_write_a_working_wrapper_and_pass_the_self_test(bundled_lean, cache, monkeypatch, capsys):
    """A stand-in profile whose 'toolchain' is the bundled Lean and whose lake prints a
    LEAN_PATH: the wrapper, settings.json and the self-test steps then run for real, and the
    self-test's verdicts come from the real kernel through the sandboxed cli backend."""
    profile = profiles.Profile(
        name="test-logic", summary="", toolchain="leanprover/lean4:v4.35.0", mathlib_url="u", mathlib_rev="0" * 40,
        repl_url="u", repl_rev="0" * 40, dataset="none", header=LOGIC_PRELUDE,
        selftest_statement="theorem and_swap (p q : Prop) (h : And p q) : And q p :=",
        selftest_proof=" And.intro h.2 h.1", selftest_wrong_proof=" h")
    s = settings_for(cache)
    ws = workspace.Workspace(profile, s)
    ws.toolchain_bin.mkdir(parents=True)
    (ws.toolchain_bin / "lean").symlink_to(bundled_lean)
    (ws.toolchain_bin / "lake").write_text("#!/bin/sh\n[ \"$*\" = 'env printenv LEAN_PATH' ] && echo /no/such/dir\n")
    (ws.toolchain_bin / "lake").chmod(0o755)
    monkeypatch.setattr(selftest, "selftest_backends", lambda: ["cli"])
    local = [st for st in setup_steps.plan(profile, s) if st.argv is None and st.cwd != ws.repl_dir]
    setup_steps.run_steps(local, say=lambda line: None, probe=lambda url: pytest.fail("no network step here"))
    wrapper = ws.lean_wrapper.read_text()
    assert "LEAN_PATH=/no/such/dir" in wrapper and f"exec {ws.toolchain_bin / 'lean'}" in wrapper
    assert f"LEAN_SYSROOT={ws.toolchain_bin.parent}" in wrapper
    assert f"exec {ws.repl_exe}" in ws.repl_wrapper.read_text()
    written = json.loads(ws.settings_file.read_text())
    assert written["lean"] == str(ws.lean_wrapper) and written["repl"] == str(ws.repl_wrapper)
    assert written["workspace"] == str(ws.project)
    loaded = Settings.from_env(profile=profile.name)
    assert (loaded.lean, loaded.repl, loaded.workspace) == (str(ws.lean_wrapper), str(ws.repl_wrapper), str(ws.project))
    assert "right proof proved" in capsys.readouterr().out
    assert all(st.is_done() for st in local)  # a second run has nothing to do

    # a profile whose self-test proof is wrong must fail the step, and leave it to do
    broken = dataclasses.replace(profile, selftest_proof=" h")
    (ws.markers / "selftest.done").unlink()
    step = setup_steps.plan(broken, s)[-1]
    with pytest.raises(profiles.SetupError, match="self-test with the cli backend failed"):
        setup_steps.run_steps([step], say=lambda line: None)
    assert not step.is_done()


# -- the old REPL's flush commit ------------------------------------------------------------
def _git(*args, cwd):
    import subprocess

    out = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _repl_repos(tmp: Path) -> tuple[Path, str, str]:
    """An 'upstream' repo (its path, first commit, second commit: the one that flushes)."""
    up = tmp / "upstream"
    up.mkdir()
    _git("init", "-q", cwd=up)
    (up / "Main.lean").write_text("def loop := do\n  IO.println \"\"\n  loop\n")
    _git("add", ".", cwd=up)
    _git("commit", "-qm", "base", cwd=up)
    base = _git("rev-parse", "HEAD", cwd=up)
    (up / "Main.lean").write_text("def loop := do\n  printFlush \"\\n\"\n  loop\n")
    _git("commit", "-qam", "flush", cwd=up)
    flush = _git("rev-parse", "HEAD", cwd=up)
    return up, base, flush


@pytest.mark.parametrize("conflicts", [False, True], ids=["applies", "conflicts"])
def test_flush_commit_is_applied_or_the_repl_is_read_through_a_pty(cache, tmp_path, monkeypatch, conflicts):
    up, base, flush = _repl_repos(tmp_path)
    fork = tmp_path / "fork"
    _git("clone", "-q", str(up), str(fork), cwd=tmp_path)
    _git("checkout", "-q", base, cwd=fork)
    if conflicts:  # the fork rewrote the very line upstream's commit changes
        (fork / "Main.lean").write_text("def loop := do\n  IO.println (← ast)\n  loop\n")
        _git("commit", "-qam", "fork", cwd=fork)
    rev = _git("rev-parse", "HEAD", cwd=fork)
    profile = dataclasses.replace(profiles.PROFILES["deepseek-v1.5"], repl_url=str(fork), repl_rev=rev, repl_flush_commit=flush)
    monkeypatch.setattr(setup_steps, "UPSTREAM_REPL_URL", str(up))
    s = settings_for(cache)
    ws = workspace.Workspace(profile, s)
    ws.root.mkdir(parents=True)
    _git("clone", "-q", str(fork), str(ws.repl_dir), cwd=tmp_path)
    _git("checkout", "-q", "--detach", rev, cwd=ws.repl_dir)
    steps = setup_steps.flush_steps(profile, ws)
    assert steps[0].argv[-2:] == [str(up), flush] and steps[0].network
    setup_steps.run_steps(steps, say=lambda line: None, probe=lambda url: True)
    assert all(st.is_done() for st in steps)
    assert _git("rev-parse", "HEAD", cwd=ws.repl_dir) == rev  # HEAD stays the pin
    main = (ws.repl_dir / "Main.lean").read_text()
    if conflicts:
        assert "IO.println (← ast)" in main and not _git("status", "--porcelain", cwd=ws.repl_dir)
        assert ws.repl_stdout() == "pty" and ws.settings_payload()["repl_stdout"] == "pty"
    else:
        assert "printFlush" in main
        assert ws.repl_stdout() == "pipe"
    assert flush[:7] in profile.fingerprint()


def test_only_the_fork_gets_the_flush_steps(cache):
    for p in profiles.PROFILES.values():
        steps = setup_steps.plan(p, settings_for(cache))
        fetch = [st for st in steps if st.argv and "fetch" in st.argv]
        assert bool(fetch) == (p.name == "deepseek-v1.5")
        assert workspace.Workspace(p, settings_for(cache)).repl_stdout() == "pipe"  # nothing has failed to apply
    assert profiles.REPL_FLUSH_COMMIT.startswith("4fc1e6d")


# -- the installer's environment -----------------------------------------------------------
def test_the_users_lean_variables_do_not_reach_setup_or_the_wrappers(cache, monkeypatch):
    monkeypatch.setenv("LEAN_PATH", "/leaked/from/the/shell")
    monkeypatch.setenv("LAKE_HOME", "/leaked/lake")
    monkeypatch.setenv("ELAN_TOOLCHAIN", "leanprover/lean4:nightly")
    monkeypatch.setenv("KEEP_ME", "1")
    env = setup_steps.step_env({"ELAN_HOME": "/c/elan"})
    assert "LEAN_PATH" not in env and "LAKE_HOME" not in env and "ELAN_TOOLCHAIN" not in env
    assert env["KEEP_ME"] == "1" and env["ELAN_HOME"] == "/c/elan"
    p = profiles.PROFILES["minif2f-v4.24"]
    s = settings_for(cache)
    ws = workspace.Workspace(p, s)
    ws.toolchain_bin.mkdir(parents=True)
    # like `lake env`, this lake keeps a LEAN_PATH it inherits
    (ws.toolchain_bin / "lake").write_text('#!/bin/sh\necho "/ws/.lake/build/lib/lean${LEAN_PATH:+:$LEAN_PATH}"\n')
    (ws.toolchain_bin / "lake").chmod(0o755)
    ws.project.mkdir(parents=True)
    step = next(st for st in setup_steps.plan(p, s) if st.description.startswith("write bin/lean"))
    step.action()
    for wrapper in (ws.lean_wrapper, ws.repl_wrapper):
        text = wrapper.read_text()
        assert "LEAN_PATH=/ws/.lake/build/lib/lean\n" in text and "leaked" not in text


# -- sizing ---------------------------------------------------------------------------------
def test_default_workers_fit_in_memory():
    from lean_env.running.settings import default_workers

    assert default_workers(64, 256 * 1024, 12288) == 17  # not 64 Mathlib processes on 256 GB
    assert default_workers(8, 1024 * 1024, 12288) == 8  # cores bound it on a big machine
    assert default_workers(4, 8 * 1024, 12288) == 1  # never zero
    assert default_workers(16, 0, 12288) == 16 and default_workers(16, 64 * 1024, 0) == 16  # unknown / not counted


def test_a_profile_sizes_recycling_and_default_workers(cache, monkeypatch):
    import lean_env.running.settings as settings_mod

    d = profile_dir(cache, "deepseek-v1.5")
    d.mkdir(parents=True)
    ws = workspace.Workspace(profiles.PROFILES["deepseek-v1.5"], settings_for(cache))
    payload = ws.settings_payload()
    assert payload["recycle_rss_mb"] == workspace.MATHLIB_RECYCLE_RSS_MB > 8192  # a Mathlib REPL sits at 5-7 GB
    assert payload["worker_mb"] == workspace.MATHLIB_WORKER_MB and payload["repl_stdout"] == "pipe"
    (d / "settings.json").write_text(json.dumps(payload))
    monkeypatch.setattr(settings_mod.os, "cpu_count", lambda: 64)
    monkeypatch.setattr(settings_mod, "machine_memory_mb", lambda: 128 * 1024)
    monkeypatch.delenv("PROVER_WORKERS", raising=False)
    s = Settings.from_env(profile="deepseek-v1.5")
    assert s.recycle_rss_mb == workspace.MATHLIB_RECYCLE_RSS_MB
    assert s.workers == 8 and s.explicit_workers() is None  # 0.8 x 128 GB / 12 GB, not 64
    assert Settings.from_env(profile="deepseek-v1.5", workers=32).workers == 32  # an explicit choice wins
    monkeypatch.setenv("PROVER_WORKERS", "40")
    assert Settings.from_env(profile="deepseek-v1.5").explicit_workers() == 40
    monkeypatch.delenv("PROVER_WORKERS")
    assert Settings.from_env(profile="").workers == 64  # the bundled logic environment: one per core


# -- doctor: known problems and what was verified where -------------------------------------
def test_doctor_notes_say_what_is_slow_or_missing_per_profile(cache):
    rows = {r[0]: r[1] for r in status.doctor_notes(settings_for(cache))}
    fork = rows["  deepseek-v1.5: known"]
    assert "serves no file of this fork" in fork and "proofStatus" in fork and "4fc1e6d" in fork
    assert "serves no file" not in rows["  minif2f-v4.24: known"]
    for name in profiles.PROFILES:
        record = rows[f"  {name}: verified"]
        assert "in CI: pins, setup plan" in record and "not in CI: the real install" in record
        assert "on this machine: nothing yet" in record
    assert "old-REPL behaviours" in rows["  deepseek-v1.5: verified"]


def test_a_passing_self_test_is_recorded_for_doctor(cache):
    p = profiles.PROFILES["minif2f-v4.24"]
    s = settings_for(cache)
    step = setup_steps.plan(p, s, selftest=lambda: None)[-1]
    setup_steps.run_steps([step], say=lambda line: None, probe=lambda url: pytest.fail("offline step"))
    here = workspace.verified_here(workspace.Workspace(p, s))
    assert here.startswith("real install") and "REPL stdout: pipe" in here
    assert any(line.startswith("verified on this machine: real install") for line in status.verified_lines(p, s))
    other = dataclasses.replace(p, mathlib_rev="1" * 40)
    assert "other pins" in workspace.verified_here(workspace.Workspace(other, s))
