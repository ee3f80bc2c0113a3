"""Every bad choice on the command line exits 2 with one line naming the valid values, before
any model is loaded, any hub contacted or any Lean started (issue 17 item 4)."""
import pytest
from typer.testing import CliRunner

import data.loaders
import lean_env.checker
import prover.models
import prover.policies
from prover.cli import app


@pytest.fixture(autouse=True)
def nothing_slow(monkeypatch):
    """Loading a model, asking the hub or starting a checker fails the test: the choice must be
    refused first."""
    def forbidden(what):
        def fail(*a, **k):
            raise AssertionError(f"{what} before the choices were validated")
        return fail

    monkeypatch.setattr(prover.policies, "load_policy", forbidden("a model was loaded"))
    monkeypatch.setattr(prover.models, "hub_reachable", forbidden("the hub was contacted"))
    monkeypatch.setattr(data.loaders, "_load_with_datasets", forbidden("a dataset was fetched"))
    monkeypatch.setattr(lean_env.checker.Checker, "__init__", forbidden("a checker was started"))


def run(*args):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("args, named, valid", [
    (["eval", "logc"], "'logc'", "logic"),
    (["eval", "logic", "--checker", "clii"], "'clii'", "server"),
    (["eval", "logic", "--format", "foo"], "'foo'", "deepseek-v1.5"),
    (["eval", "logic", "--search", "mctss"], "'mctss'", "mcts"),
    (["eval", "logic", "--engine", "vllmm"], "'vllmm'", "vllm"),
    (["eval", "logic", "-k", "0"], "-k", "must be"),
    (["eval", "nosuch.jsonl"], "nosuch.jsonl", "does not exist"),
    (["prove", "theorem t : True :=", "--env", "logik"], "'logik'", "logic"),
    (["prove", "theorem t : True :=", "--format", "kimna"], "'kimna'", "kimina"),
    (["prove", "theorem t : True :=", "--search", "bfss"], "'bfss'", "bfs"),
    (["prove", "theorem t : True :=", "--engine", "h"], "'h'", "hf"),
    (["prove", "theorem t : True :=", "-n", "0"], "-n", "must be"),
    (["check", "README.md", "--checker", "serverr"], "'serverr'", "server"),
    (["check", "README.md", "--env", "logc"], "'logc'", "logic"),
    (["check", "README.md", "--timeout", "0"], "--timeout", "must be"),
    (["eval", "logic", "--search", "mcts", "-O", "cc=2"], "'cc'", "gamma=0.99"),
    (["eval", "logic", "--search", "mcts", "-O", "c=nan"], "c`", "must be"),
    (["eval", "logic", "-O", "round_size"], "round_size", "KEY=VALUE"),
    (["prove", "theorem t : True :=", "--search", "bfs", "-O", "expand_k=two"], "expand_k", "expected int"),
])
def test_bad_choice_is_one_line_and_exit_2(args, named, valid):
    res = run(*args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error:") and named in lines[0] and valid in lines[0], lines[0]
    assert "Traceback" not in res.output


def test_a_hub_id_passes_the_dataset_check():
    from prover import choices

    choices.dataset("owner/some-dataset")  # data.load asks the hub for it
    with pytest.raises(choices.UsageError):
        choices.dataset("not a name")


def test_version_and_short_help():
    res = run("--version")
    assert res.exit_code == 0 and res.stdout.startswith("prover ")
    res = run("-h")
    assert res.exit_code == 0 and "check" in res.stdout and "--verbose" in res.stdout and "--quiet" in res.stdout
    res = run("check", "-h")
    assert res.exit_code == 0 and "--theorem" in res.stdout


def test_the_old_backend_flag_still_works_and_names_the_new_one():
    res = run("check", "README.md", "--backend", "serverr")
    assert res.exit_code == 2 and "--backend is now --checker" in res.output and "'serverr'" in res.output
