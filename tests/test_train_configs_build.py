"""Every shipped config in configs/ builds its trainer, as `prover train STAGE --config FILE` would
(the stage from the command in the file's own header comment), so a config that cannot start
fails here and not on a GPU node after the model has downloaded (the GPU config once crashed at
its logger). The run stops right where training would begin.

What is substituted, and only that: the tiny from-scratch model for the hub model or a previous
stage's output; a small row limit; a temporary output_dir; for sft_logic_v2_steps, the
prompt/completion file a script writes first; for DPO/KTO, eval records of a scripted policy
judged by the real Lean (their stage would otherwise search first); and the checker only where
the config names a Mathlib profile (no Mathlib here). vLLM colocated is the same TRL code for
every GPU config: it is built for one of them (where vllm is installed), switched off for the rest.
"""
import json
import re
from pathlib import Path

import pytest

import prover.train.runner as runner
from prover.train.config import load_config
from prover.train.registry import get_stage
from tests.process_state import left_as_found

pytestmark = [pytest.mark.lean, pytest.mark.slow, pytest.mark.usefixtures("vllm_left_no_trace")]

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
TINY = {"model": "tiny", "tiny": {"layers": 1, "hidden": 32, "seed": 0}, "torch_threads": 1, "max_rows": 3}
VLLM_BUILT = "grpo_minif2f_gpu.yaml"  # the one GPU config whose colocated vLLM engine is built


def shipped() -> list[tuple[str, str]]:
    """(file name, stage) for every config, the stage read from its documented command."""
    out = []
    for path in sorted(CONFIGS.glob("*.yaml")):
        found = re.search(r"prover(?:\.cli)? train ([\w-]+) --config configs/" + re.escape(path.name), path.read_text())
        assert found, f"{path.name}: its header must show the `prover train STAGE --config configs/{path.name}` command"
        out.append((path.name, found.group(1)))
    return out


class Built(Exception):
    """Raised where training would start, carrying the trainer."""


@pytest.fixture
def stop_before_training(monkeypatch):
    def built(cfg, trainer, *args, closing=None, **kwargs):
        if closing is not None:
            closing.close()
        raise Built(trainer)

    monkeypatch.setattr(runner, "train_and_save", built)


class MathlibStandIn:
    """Stands in for a checker whose Lean needs a Mathlib profile; building a trainer checks nothing."""

    workers = 1

    def check_many(self, tasks, on_verdict=None):
        raise AssertionError("a trainer's construction must not check proofs")

    def close(self):
        pass


@pytest.fixture(scope="module")
def eval_records(tmp_path_factory, cli_checker):
    """A real eval directory for DPO/KTO: a wrong term, the reference proof, another wrong term."""
    from prover.evaluation import EvalSpec, run_eval
    from prover.policies.scripted import ScriptedPolicy
    from prover.train.config import from_dict
    from prover.train.data import limit, training_rows
    from prover.train.search_round import write_pool

    out = tmp_path_factory.mktemp("eval")
    rows = limit(training_rows(from_dict({"dataset": "logic-v2"}, "dpo"), "train"), 3)
    script = {r["name"]: [" True.intro\n```", r["proof"].rstrip() + "\n```", " (fun h => h) 0\n```"] for r in rows}
    pool = write_pool(rows, out / "pool.jsonl")
    run_eval(EvalSpec(dataset=str(pool), split="all", k=3, model="scripted", prompt_format="deepseek-v1.5",
                      stop_at_first=False, max_tokens=64), out / "run", policy=ScriptedPolicy(script), checker=cli_checker)
    return out / "run"


def overrides(name: str, stage: str, tmp_path: Path, eval_records: Path, has_vllm: bool) -> dict:
    raw = load_config(CONFIGS / name, stage)
    over = {**TINY, "output_dir": str(tmp_path / "out")}
    if stage in ("dpo", "kto"):
        over["records"] = str(eval_records)
    if stage == "expert-iteration":
        over.update({"k": 1, "search_max_tokens": 8, "include_reference": True, "max_rows": 2})
    if raw.dataset.startswith("runs/") and raw.prompt_format == "state" and stage == "grpo":  # proof states
        from lean_env.running.environments import logic_header

        path = tmp_path / "states.jsonl"
        path.write_text(json.dumps({"prompt": "p : Prop\nh : p\n⊢ p\n>>>\n", "formal_statement":
                                    "theorem t (p : Prop) (h : p) : p :=", "header": logic_header(), "name": "t@0",
                                    "tactics": "[]", "goals": json.dumps(["p : Prop\nh : p\n⊢ p"])}) + "\n")
        over["dataset"] = str(path)
    elif raw.dataset.startswith("runs/"):  # written by a script before this stage runs
        path = tmp_path / "pairs.jsonl"
        path.write_text(json.dumps({"prompt": "theorem t (p : Prop) (h : p) : p :=", "completion": " h"}) + "\n")
        over["dataset"] = str(path)
    if raw.trl.get("use_vllm") and not (name == VLLM_BUILT and has_vllm):
        over["use_vllm"] = False
    return over


@pytest.mark.parametrize("name,stage", shipped(), ids=[n for n, _ in shipped()])
def test_every_shipped_config_builds_its_trainer(name, stage, tmp_path, monkeypatch, stop_before_training,
                                                 eval_records, capsys):
    from prover.policies.vllm import vllm_available

    has_vllm = vllm_available()
    cfg = load_config(CONFIGS / name, stage, overrides(name, stage, tmp_path, eval_records, has_vllm))
    if cfg.profile:
        import prover.train.verifier as verifier

        monkeypatch.setattr(verifier, "training_checker", lambda cfg, log=print: MathlibStandIn())
    if cfg.trl.get("use_vllm"):
        monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
        monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    with left_as_found(), pytest.raises(Built) as built:  # colocated vLLM runs in this process: put it back
        get_stage(stage).run(cfg, log=print)
    trainer = built.value.args[0]
    args = trainer.args
    assert type(args).__name__ == get_stage(stage).trl_config
    for key, value in cfg.trl.items():  # every TRL key of the file reached TRL as written (expert iteration:
        if key == "output_dir":  # each round has its own)
            continue
        got = getattr(args, key)
        if key == "report_to":  # transformers keeps loggers as a list, `none` as []
            value = [] if value == "none" else [value] if isinstance(value, str) else value
        assert got == value, (key, got, value)
    if cfg.trl.get("use_vllm"):
        assert trainer.use_vllm and trainer.vllm_mode == "colocate"
    print(f"{name}: {type(trainer).__name__} built for `prover train {stage}` "
          f"(TRL {type(args).__name__}, report_to={args.report_to}, use_vllm={cfg.trl.get('use_vllm', False)})")
