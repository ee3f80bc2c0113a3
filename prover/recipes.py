"""Each published prover as a known recipe: how its authors prompted, sampled, extracted and
checked, and the number they reported. One table, read by prover.models (which prompt format a
model gets), by the evaluation (token budget, sampling, split) and by `prover eval --dry-run`
(what a run would do, side by side with the paper).

Why a table and not name heuristics: a published prover asked in another model's format scores
about 0%, silently. A model id matches a recipe by its name (the hub id's last part, or a local
directory of that name, or an HF cache snapshot of it); any other model needs its own prover.json
(written by `prover train`) or `--format`, and is refused with the list of formats otherwise.

Facts come from the upstream repositories, papers and model cards named in `source`; where a
fact is second-hand or not found, `notes` says so. `differs` lists what this project still does
differently when the recipe is followed (docs/reproducing.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Optional

# Acceptance, upstream: the rule each project's own checker applied.
DEEPSEEK_ACCEPT = ("no error, no sorry, no warning containing 'failed' (REPL, one process per proof); "
                   "no axiom audit")
KIMINA_ACCEPT = "no error and no sorry (kimina-lean-server); native_decide accepted; no axiom audit"
GOEDEL_V2_ACCEPT = ("no error, no sorry; apply?/exact? refused; the dataset statement spliced into the answer; "
                    "no axiom audit")
# Acceptance here, for every recipe (lean_env.soundness.judge): stricter than any of the above.
OUR_ACCEPT = ("no error, no sorry; the proved theorem is exactly the target (checked by the kernel, not by text); "
              "axioms within propext, Classical.choice, Quot.sound; the static allowlist (native_decide, "
              "exact?, apply? and code-running commands refused before Lean)")

EXTRACTIONS = {
    "continuation": "the completion up to the first ``` (the stop string), appended to the statement; "
                    "an unclosed block at the token limit is refused as truncated",
    "last-block": "the last complete ```lean4 block after </think> (an unclosed <think> or block is truncated); "
                  "its theorem must be the target",
    "goedel-splice": "the last complete ```lean4 block after </think>; its import/set_option/open lines dropped and "
                     "the target's statement put in place of the answer's (Goedel-Prover-V2 src/utils.py, "
                     "src/compile.py)",
}

DEEPSEEK_PROFILE = "deepseek-v1.5"  # Lean v4.9.0-rc1 + DeepSeek's Mathlib fork (lean_env.install)
KIMINA_PROFILE = "kimina-v4.15"  # Lean v4.15 + Mathlib 9837ca9, where Kimina-Preview's proofs were checked


@dataclass(frozen=True)
class Paper:
    """The number a paper or card reports, and the budget behind it."""

    score: Optional[float]  # percent solved on the benchmark; None where no number was found
    k: Optional[int]  # samples per problem behind `score`
    benchmark: str = "miniF2F-test (244)"
    setting: str = ""
    source: str = ""


@dataclass(frozen=True)
class Recipe:
    name: str  # the model's published name
    pattern: str  # full match (case-insensitive) on the model's name
    hub_ids: tuple[str, ...]
    prompt_format: str  # protocol.prompts.FORMATS
    chat_template: bool  # rendered with the tokenizer's chat template
    max_new_tokens: int
    max_model_len: int  # the context (prompt + answer) the authors ran vLLM with
    temperature: float
    top_p: float
    extraction: str  # EXTRACTIONS key
    acceptance: str  # upstream's rule (ours is OUR_ACCEPT for every recipe)
    timeout_s: float  # seconds per proof check upstream
    dataset: str  # the dataset variant the paper scored on (data.VARIANTS name)
    split: str
    profile: str  # Lean + Mathlib profile (lean_env.install.profiles.PROFILES), or the nearest one
    paper: Paper
    system_prompt: bool = False  # a system turn before the user turn
    gpus: int = 1  # GPUs the weights need (bf16, vLLM)
    notes: tuple[str, ...] = ()
    differs: tuple[str, ...] = field(default_factory=tuple)

    def matches(self, name: str) -> bool:
        return re.fullmatch(self.pattern, name, re.IGNORECASE) is not None


_V15_DIFFERS = (
    "acceptance is stricter: the axiom audit and the allowlist refuse native_decide/exact? proofs DeepSeek's "
    "verifier passed (rare at this size)",
    "one run of k samples: the paper reports the mean over several runs (about ±0.5 points)",
)
# What still differs when the recipe is followed on the paper's dataset and profile (the dry run
# adds whatever this invocation changes: another dataset, profile, budget, sampling or timeout).
_KIMINA_PREVIEW_DIFFERS = (
    "acceptance: native_decide is refused unless --trust native_decide (16 of the 225 published Kimina-Preview "
    "proofs use it); the axiom audit and allowlist stay stricter than kimina-lean-server",
)
_GOEDEL_V2_DIFFERS = (
    "acceptance: the axiom audit and allowlist are stricter than Goedel's checker",
)


def _v15(name: str, score: float, source_note: str) -> Recipe:
    return Recipe(
        name=name, pattern=re.escape(name), hub_ids=(f"deepseek-ai/{name}",), prompt_format="deepseek-v1.5-cot",
        chat_template=False, max_new_tokens=2048, max_model_len=4096, temperature=1.0, top_p=0.95,
        extraction="continuation", acceptance=DEEPSEEK_ACCEPT, timeout_s=300.0, dataset="minif2f", split="test",
        profile=DEEPSEEK_PROFILE,
        paper=Paper(score, 32, setting="whole-proof, CoT prompt, T 1.0, top-p 0.95, 2048 tokens, mean of runs",
                    source=f"DeepSeek-Prover-V1.5 paper Table 1 ({source_note}); configs/sampling.py"),
        notes=("the paper's Table 1 note: SFT and RL use CoT prompting; --format deepseek-v1.5 gives non-CoT "
               "(Fig. 3: about 1 point lower)",),
        differs=_V15_DIFFERS)


def _kimina(name: str, paper: Paper, notes: tuple[str, ...]) -> Recipe:
    """The Kimina family's shared recipe: one prompt, sampling, context and checker for every size."""
    return Recipe(
        name=name, pattern=re.escape(name), hub_ids=(f"AI-MO/{name}",), prompt_format="kimina", chat_template=True,
        system_prompt=True, max_new_tokens=32768, max_model_len=32768, temperature=0.6, top_p=0.95,
        extraction="last-block", acceptance=KIMINA_ACCEPT, timeout_s=300.0, dataset="minif2f-kimina", split="test",
        profile=KIMINA_PROFILE, paper=paper, notes=notes, differs=_KIMINA_PREVIEW_DIFFERS)


def _kimina_preview(size: str, score: float) -> Recipe:
    return _kimina(
        f"Kimina-Prover-Preview-Distill-{size}",
        Paper(score, 32, setting="whole-proof with reasoning, 32K context",
              source="Kimina-Prover Preview report, Table 1 (MoonshotAI/Kimina-Prover-Preview)"),
        ("temperature 0.6 and top-p 0.95 are the model card's quick start (read second-hand; the card "
         "samples 8096 tokens); the report evaluates with a 32K context, which this recipe uses",))


def _kimina_distill(size: str) -> Recipe:
    return _kimina(
        f"Kimina-Prover-Distill-{size}",
        Paper(None, 32, setting="whole-proof with reasoning", source="Kimina-Prover (2025-07) release, AI-MO model card"),
        ("no pass@32 for this distill was read from a primary source here; the prompt, sampling and "
         "context follow the Preview recipe",))


def _goedel_v2(size: str, score: float, extra: str = "") -> Recipe:
    name = f"Goedel-Prover-V2-{size}"
    return Recipe(
        name=name, pattern=re.escape(name), hub_ids=(f"Goedel-LM/{name}",), prompt_format="goedel-v2",
        chat_template=True, max_new_tokens=40960, max_model_len=40960, temperature=1.0, top_p=0.95,
        extraction="goedel-splice", acceptance=GOEDEL_V2_ACCEPT, timeout_s=300.0, dataset="minif2f-goedel-v2",
        split="test", profile=DEEPSEEK_PROFILE, gpus=1 if size == "8B" else 2,
        paper=Paper(score, 32, setting="standard mode (no self-correction), T 1.0, top-p 0.95, "
                                       "max_tokens = max_model_len = 40960" + extra,
                    source="Goedel-Prover-V2 README; scripts/pipeline.sh, src/inference.py"),
        notes=("the README's quick start samples 32768 new tokens; the evaluation pipeline 40960 (used here)",
               "the self-correction numbers (2 multi-turn rounds with Lean's errors) need --search self-correct"),
        differs=_GOEDEL_V2_DIFFERS)


def _deepseek_v2(size: str, score: float, gpus: int) -> Recipe:
    name = f"DeepSeek-Prover-V2-{size}"
    return Recipe(
        name=name, pattern=re.escape(name), hub_ids=(f"deepseek-ai/{name}",), prompt_format="deepseek-v2",
        chat_template=True, max_new_tokens=8192, max_model_len=32768, temperature=1.0, top_p=0.95,
        extraction="last-block", acceptance=DEEPSEEK_ACCEPT, timeout_s=300.0, dataset="minif2f", split="test",
        profile=DEEPSEEK_PROFILE, gpus=gpus,
        paper=Paper(score, 32, setting="whole-proof, CoT (proof plan) prompt",
                    source="DeepSeek-Prover-V2 paper Table 1; README quick start (max_new_tokens=8192)"),
        notes=("sampling temperature and top-p are not stated in the README; DeepSeek-Prover-V1.5's 1.0 / 0.95 "
               "are used", "the 7B's CoT answers average 4,488 tokens (paper Table 3): some exceed 8192",
               "671B: about 8 80-GB GPUs with its published FP8 weights (tensor parallel)"),
        differs=("samples that run past 8192 new tokens are lost (the README's budget; the paper trains at 32K)",
                 "acceptance is stricter (axiom audit, allowlist)"))


RECIPES: tuple[Recipe, ...] = (
    _v15("DeepSeek-Prover-V1.5-RL", 50.0, "50.0% ± 0.5"),
    _v15("DeepSeek-Prover-V1.5-SFT", 48.2, "48.2% ± 0.6"),
    _deepseek_v2("7B", 75.6, gpus=1),
    _deepseek_v2("671B", 82.4, gpus=8),
    _kimina_preview("7B", 63.1),
    _kimina_preview("1.5B", 56.2),
    _kimina_distill("8B"),
    _kimina_distill("1.7B"),
    _kimina_distill("0.6B"),
    Recipe(
        name="Kimina-Prover-72B", pattern=r"Kimina-Prover-72B", hub_ids=("AI-MO/Kimina-Prover-72B",),
        prompt_format="kimina", chat_template=True, system_prompt=True, max_new_tokens=32768, max_model_len=32768,
        temperature=0.6, top_p=0.95, extraction="last-block", acceptance=KIMINA_ACCEPT, timeout_s=300.0,
        dataset="minif2f-kimina", split="test", profile=KIMINA_PROFILE, gpus=4,
        paper=Paper(84.0, 32, setting="whole-proof with reasoning (without test-time RL search)",
                    source="Kimina-Prover blog (2025-07), read second-hand"),
        differs=_KIMINA_PREVIEW_DIFFERS),
    Recipe(
        name="Goedel-Prover-SFT", pattern=r"Goedel-Prover-SFT", hub_ids=("Goedel-LM/Goedel-Prover-SFT",),
        prompt_format="deepseek-v1.5-cot", chat_template=False, max_new_tokens=2048, max_model_len=4096,
        temperature=1.0, top_p=0.95, extraction="continuation", acceptance=DEEPSEEK_ACCEPT, timeout_s=300.0,
        dataset="minif2f", split="test", profile=DEEPSEEK_PROFILE,
        paper=Paper(57.6, 32, setting="whole-proof, DeepSeek-V1.5 CoT prompt, T 1.0, top-p 0.95, 2048 tokens",
                    source="Goedel-Prover README; eval/step1_inference.py, eval/step2_compile.py (timeout 300)"),
        notes=("Goedel-Prover's datasets/minif2f.jsonl is byte-identical to DeepSeek-Prover-V1.5's",),
        differs=_V15_DIFFERS[:1]),
    _goedel_v2("8B", 84.6),
    _goedel_v2("32B", 88.0, "; 90.4% with self-correction"),
)


def model_name(spec: str) -> str:
    """The name a recipe is matched on: a hub id's last part, a local directory's name, or the
    model named by an HF cache path (.../models--owner--name/snapshots/<commit>)."""
    parts = PurePath(spec.rstrip("/")).parts
    for part in reversed(parts):
        m = re.fullmatch(r"models--[^/]+?--(.+)", part)
        if m:
            return m.group(1)
    return parts[-1] if parts else spec


def recipe_for(model: str) -> Optional[Recipe]:
    """The recipe whose name the model carries, or None."""
    name = model_name(model)
    return next((r for r in RECIPES if r.matches(name)), None)


def get_recipe(name: str) -> Recipe:
    found = recipe_for(name)
    if found is None:
        raise KeyError(f"no recipe for {name!r}; known: {', '.join(r.name for r in RECIPES)}")
    return found
