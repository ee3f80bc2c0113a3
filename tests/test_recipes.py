"""Published provers as recipes: each model gets its authors' prompt, budget and sampling; an
unknown model is refused with the formats to choose from; `prover eval --dry-run` prints what a
run would do without a model, Lean or GPU, and that matches the recipe (and so the paper)."""
import hashlib
from pathlib import Path

import pytest

from prover.evaluation import EvalSpec
from prover.evaluation.dryrun import describe, render
from prover.models import UnknownModel, default_prompt_format
from protocol.prompts import FORMATS
from prover.recipes import EXTRACTIONS, RECIPES, get_recipe, model_name, recipe_for

DATA = Path(__file__).resolve().parents[1] / "data" / "minif2f" / "deepseek_v1.5.jsonl"

REQUIRED = ["DeepSeek-Prover-V1.5-SFT", "DeepSeek-Prover-V1.5-RL", "DeepSeek-Prover-V2-7B", "DeepSeek-Prover-V2-671B",
            "Kimina-Prover-Preview-Distill-1.5B", "Kimina-Prover-Preview-Distill-7B", "Kimina-Prover-Distill-0.6B",
            "Kimina-Prover-Distill-1.7B", "Kimina-Prover-Distill-8B", "Goedel-Prover-SFT", "Goedel-Prover-V2-8B",
            "Goedel-Prover-V2-32B"]


@pytest.mark.parametrize("name", REQUIRED)
def test_every_published_prover_has_one_consistent_recipe(name):
    matching = [r for r in RECIPES if r.matches(name)]
    assert len(matching) == 1, matching
    r = matching[0]
    assert r.prompt_format in FORMATS and r.extraction in EXTRACTIONS
    assert r.chat_template == (FORMATS[r.prompt_format].kind == "chat")
    assert (r.extraction == "continuation") == (FORMATS[r.prompt_format].kind == "continuation")
    assert r.max_new_tokens <= r.max_model_len and r.timeout_s == 300.0 and r.split == "test"
    for hub_id in r.hub_ids:  # the hub id, its last part, a local directory, an HF cache snapshot
        assert recipe_for(hub_id) is r and recipe_for(hub_id.lower()) is r
        assert recipe_for(f"/models/{hub_id.split('/')[1]}/") is r
        owner, repo = hub_id.split("/")
        assert recipe_for(f"/root/.cache/huggingface/hub/models--{owner}--{repo}/snapshots/abc123") is r


def test_the_formats_that_were_guessed_wrong_before():
    # the Preview distills and the 671B fell through to DeepSeek-V1.5's continuation prompt (about 0%)
    assert default_prompt_format("AI-MO/Kimina-Prover-Preview-Distill-7B") == "kimina"
    assert default_prompt_format("AI-MO/Kimina-Prover-Preview-Distill-1.5B") == "kimina"
    assert default_prompt_format("deepseek-ai/DeepSeek-Prover-V2-671B") == "deepseek-v2"
    # the paper's 50.0% pass@32 is CoT (Table 1 note)
    assert default_prompt_format("deepseek-ai/DeepSeek-Prover-V1.5-RL") == "deepseek-v1.5-cot"
    assert default_prompt_format("Goedel-LM/Goedel-Prover-SFT") == "deepseek-v1.5-cot"


def test_budgets_and_sampling_follow_the_authors():
    assert get_recipe("DeepSeek-Prover-V1.5-RL").max_new_tokens == 2048
    assert get_recipe("DeepSeek-Prover-V2-7B").max_new_tokens == 8192
    assert get_recipe("Goedel-Prover-V2-8B").max_new_tokens == 40960  # scripts/pipeline.sh MAX_MODEL_LEN
    kimina = get_recipe("Kimina-Prover-Preview-Distill-7B")
    assert kimina.max_model_len == 32768 and kimina.temperature == 0.6 and kimina.top_p == 0.95


def test_a_name_that_merely_contains_a_prover_is_not_that_prover(tmp_path):
    assert model_name("Goedel-LM/Goedel-Prover-V2-8B") == "Goedel-Prover-V2-8B"
    assert recipe_for("someone/DeepSeek-Prover-V1.5-RL-finetuned") is None
    with pytest.raises(UnknownModel) as err:
        default_prompt_format(str(tmp_path / "my-finetune"))
    message = str(err.value)
    assert "--format" in message and all(f in message for f in FORMATS)
    assert default_prompt_format("smollm2-135m-instruct") == "deepseek-v1.5"  # the built-in model


def test_eval_refuses_an_unknown_model_before_loading_anything(tmp_path):
    from typer.testing import CliRunner

    from prover.cli import app

    res = CliRunner().invoke(app, ["eval", "minif2f", "--model", "someone/NotAProver-7B", "--dry-run"])
    assert res.exit_code == 2 and "--format" in res.output and "kimina" in res.output
    res = CliRunner().invoke(app, ["eval", "minif2f", "--model", "someone/NotAProver-7B", "--format", "kimina",
                                   "--dry-run"])
    assert res.exit_code == 0 and "recipe:           none" in res.output


def _dry(model, **kw):
    return describe(EvalSpec(dataset="minif2f", split="test", k=32, model=model, **kw))


def test_dry_run_of_deepseek_v15_rl_is_the_papers_setting():
    d = _dry("deepseek-ai/DeepSeek-Prover-V1.5-RL")
    assert d["recipe"] == "DeepSeek-Prover-V1.5-RL" and d["prompt_format"] == "deepseek-v1.5-cot"
    assert d["sampling"] | {"seed": None} == {"n": 32, "temperature": 1.0, "top_p": 0.95, "max_new_tokens": 2048,
                                            "stop": ["```"], "seed": None}
    assert d["timeout_s"] == 300.0  # profile deepseek-v1.5 (paper §2.4)
    assert d["dataset"]["sha256"] == hashlib.sha256(DATA.read_bytes()).hexdigest()
    assert d["dataset"]["problems"] == 244 and d["dataset"]["split"] == "test"
    assert d["lean"]["toolchain"] == "leanprover/lean4:v4.9.0-rc1" and "2f65ba7f" in d["lean"]["mathlib"]
    assert d["prompt"]["text"].startswith("Complete the following Lean 4 code with explanatory comments preceding "
                                          "each line of code:\n\n```lean4\nimport Mathlib\nimport Aesop\n")
    assert d["prompt"]["text"].endswith(":= by\n")
    assert d["paper"]["score"] == 50.0 and d["paper"]["k"] == 32
    assert not [x for x in d["differs"] if " here" in x]  # nothing this invocation changes


def test_dry_run_of_kimina_preview_7b_shows_the_card_prompt_and_32k():
    d = _dry("AI-MO/Kimina-Prover-Preview-Distill-7B")
    assert d["prompt_format"] == "kimina" and d["sampling"]["temperature"] == 0.6
    assert d["sampling"]["max_new_tokens"] == 32768 and d["sampling"]["stop"] == []
    system, user = d["prompt"]["messages"]
    assert system == {"role": "system", "content": "You are an expert in mathematics and Lean 4."}
    assert "/-- The volume of a cone" in user["content"] and user["content"].endswith(":= by\n\n```\n")
    assert d["prompt"]["text"] is None and "not on this machine" in d["prompt"]["template"]  # no hub here
    assert any("minif2f-kimina" in x for x in d["differs"])  # scored on Kimina's corrected test set
    assert d["paper"]["score"] == 63.1


def test_dry_run_of_goedel_v2_8b_and_options_that_depart_from_the_paper():
    d = _dry("Goedel-LM/Goedel-Prover-V2-8B")
    assert d["sampling"]["max_new_tokens"] == 40960 and d["extraction"].startswith("goedel-splice")
    assert d["prompt"]["messages"][0]["content"].split("```")[1].endswith(":= by sorry")
    assert d["paper"]["score"] == 84.6
    changed = _dry("Goedel-LM/Goedel-Prover-V2-8B", max_tokens=8192, timeout=60.0, temperature=0.7)
    assert changed["timeout_s"] == 60.0 and changed["timeout_from"].startswith("--timeout")
    said = " | ".join(changed["differs"])
    assert "max_new_tokens is 8192 here, 40960" in said and "timeout_s is 60.0 here" in said
    assert "temperature is 0.7 here" in said


def test_dry_run_text_names_every_part():
    text = render(_dry("deepseek-ai/DeepSeek-Prover-V1.5-RL"))
    for label in ("prompt format:", "sampling:", "max new tokens:", "stop:", "extraction:", "acceptance:",
                  "timeout:", "dataset:", "dataset sha256:", "toolchain:", "mathlib:", "engine:", "batch:",
                  "first problem (mathd_algebra_478)"):
        assert label in text, label


def test_dry_run_needs_no_model_and_renders_a_local_chat_template(tmp_path):
    from prover.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    tok.chat_template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>"
    tok.save_pretrained(model)
    d = describe(EvalSpec(dataset="minif2f", split="test", k=4, model=str(model), prompt_format="kimina"))
    assert d["prompt"]["text"].startswith("<system>You are an expert") and d["prompt"]["text"].endswith("<assistant>")
    assert d["recipe"] is None and "paper" not in d


def test_minif2f_runs_its_test_split_unless_told_and_all_means_every_row():
    from typer.testing import CliRunner

    from prover.cli import app
    from prover.evaluation.run import default_split

    assert default_split("minif2f") == "test" and default_split("minif2f-v4.24") == "test"
    assert default_split("logic") is None
    common = ["eval", "minif2f", "--model", "deepseek-ai/DeepSeek-Prover-V1.5-RL", "--dry-run"]
    plain = CliRunner().invoke(app, common)
    assert plain.exit_code == 0 and "split test, 244 problems" in plain.output
    every = CliRunner().invoke(app, common + ["--split", "all"])
    assert every.exit_code == 0 and "split all, 488 problems" in every.output


def test_the_default_engine_is_vllm_only_with_a_gpu_and_vllm(monkeypatch):
    import prover.policies.vllm as vllm_policy
    from prover.evaluation.run import default_engine

    for gpu, installed, want in ((True, True, "vllm"), (True, False, "hf"), (False, True, "hf")):
        monkeypatch.setattr(vllm_policy, "has_cuda", lambda: gpu)
        monkeypatch.setattr(vllm_policy, "vllm_available", lambda: installed)
        engine, why = default_engine()
        assert engine == want
        if gpu and not installed:
            assert "prover setup vllm" in why


def test_on_the_papers_dataset_and_rule_the_dry_run_reports_no_departure():
    kimina = describe(EvalSpec(dataset="minif2f-kimina", split="test", k=32, trust="native_decide",
                               model="AI-MO/Kimina-Prover-Preview-Distill-7B"))
    assert kimina["lean"]["profile"] == "kimina-v4.15" and kimina["dataset"]["problems"] == 244
    assert "native_decide trusted" in kimina["acceptance"]
    goedel = describe(EvalSpec(dataset="minif2f-goedel-v2", split="test", k=32, model="Goedel-LM/Goedel-Prover-V2-8B"))
    for d in (kimina, goedel):
        assert not [x for x in d["differs"] if " here" in x], d["differs"]
