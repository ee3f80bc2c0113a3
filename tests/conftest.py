"""Fixtures shared by the test files: the logic header and one checker per backend kind."""
import pytest

from lean_env.running.environments import logic_header
from lean_env.running.settings import Settings


@pytest.fixture(scope="session")
def header() -> str:
    return logic_header()


@pytest.fixture(scope="session")
def server_checker():
    """A pooled Lean server checker shared by the tests that need goal states or speed."""
    from lean_env.checker import Checker

    with Checker("server", Settings.from_env(timeout=60), workers=2) as checker:
        yield checker


@pytest.fixture(scope="session")
def cli_checker():
    from lean_env.checker import Checker

    with Checker("cli", Settings.from_env(timeout=60), workers=2) as checker:
        yield checker


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny from-scratch model (built in about a second) behind a real HF policy."""
    from prover.policies import load_policy
    from prover.tiny_model import build_tiny_model

    return load_policy(str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")))


@pytest.fixture(scope="module")
def vllm_left_no_trace():
    """For a module that runs vLLM in this process: afterwards torch.set_num_threads, torch's thread
    count, os.environ and torch.distributed are as the module found them (tests/process_state.py says
    what vLLM changes and why it matters). Use: `pytestmark = pytest.mark.usefixtures("vllm_left_no_trace")`,
    which sets it up before the module's own module-scoped fixtures (an engine built in one is covered)."""
    from tests.process_state import left_as_found

    with left_as_found():
        yield
