"""The CLI's stderr console: foreign text keeps its brackets, libraries' bars stay quiet unless
--verbose, --quiet keeps errors only."""
import os
import subprocess
import sys

from prover import console


def test_foreign_text_keeps_its_brackets(capsys):
    console.error('vLLM is not installed: `pip install -e ".[vllm]"`; Lean said [bold]x[/bold]')
    assert capsys.readouterr().err.strip() == 'error: vLLM is not installed: `pip install -e ".[vllm]"`; Lean said [bold]x[/bold]'


def test_quiet_hides_progress_but_not_errors(capsys):
    try:
        console.set_verbosity(quiet=True)
        console.info("progress")
        console.error("broken")
    finally:
        console.set_verbosity()
    assert capsys.readouterr().err == "error: broken\n"


def _bar(*flags):
    code = ("import prover.console as c; c.set_verbosity(" + ", ".join(flags) + ");"
            "from tqdm.auto import tqdm; [x for x in tqdm(range(3), desc='Converting')]")
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env).stderr


def test_library_bars_are_quiet_by_default_and_shown_with_verbose():
    assert "Converting" not in _bar()
    assert "Converting" in _bar("verbose=True")
