"""`prover eval ... --dry-run`: what a run would do, decided exactly as the run decides it
(run.plan_eval), printed without loading a model, starting Lean or touching a GPU. A GPU hour
is then spent only after the prompt, budget, sampling, extraction, acceptance, timeout, dataset
bytes and Lean pins have been read side by side with the paper (docs/reproducing.md).

A chat prompt is rendered with the model's own chat template only when its tokenizer is on this
machine already (a local directory or the HF cache); otherwise the messages are shown and the
template that would render them is named. Nothing is downloaded.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Optional

from lean_env.running.settings import Settings
from prover.evaluation.environment import profile_installed
from prover.evaluation.run import EvalSpec, plan_eval

HF_MAX_BATCH = 64  # prover.policies.hf.HFPolicy's default, before its memory cap


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def local_tokenizer(model: str) -> Any:
    """The model's tokenizer if it is on this machine (never a download), else None."""
    try:
        from transformers import AutoTokenizer

        from prover.console import quiet_libraries

        quiet_libraries()
        return AutoTokenizer.from_pretrained(model, local_files_only=True)
    except Exception:  # not cached, not a directory, no tokenizer files: say so, do not fetch
        return None


def _dataset(spec: EvalSpec, rows: list[dict]) -> dict:
    import data

    out: dict[str, Any] = {"name": spec.dataset, "split": spec.split or "all", "problems": len(rows)}
    try:
        v = data.variant(spec.dataset)
        path = Path(data.__file__).parent / v.file
        out.update(variant=data.loaders.ALIASES.get(spec.dataset, spec.dataset), file=v.file, profile=v.profile)
    except KeyError:
        path = Path(spec.dataset)
        out.update(variant=None, file=str(path), profile=rows[0].get("profile") if rows else None)
    if path.is_file():
        out["sha256"] = _sha256(path)
    return out


def _timeout(settings: Settings, profile: Optional[str]) -> tuple[float, str]:
    """The per-check timeout a run would use, and where it comes from (lean_settings_for's order)."""
    from lean_env.running.settings import profile_settings

    if "timeout" in getattr(settings, "explicit", ()):
        return settings.timeout, "--timeout / PROVER_TIMEOUT"
    name = settings.profile or (profile if profile and profile != "bundled" else "")
    if name and profile_installed(name, settings):
        got = profile_settings(settings.cache, name).get("timeout")
        if got:
            return float(got), f"the installed profile {name}"
    if name:
        from lean_env.install.workspace import MATHLIB_TIMEOUT_S

        return MATHLIB_TIMEOUT_S, f"profile {name} (not installed here: what `prover setup {name}` writes)"
    return settings.timeout, "the default (bundled Lean)"


def _pins(profile: Optional[str]) -> dict:
    if not profile or profile == "bundled":
        return {"profile": profile or "bundled"}
    from lean_env.install.profiles import SetupError, get_profile

    try:
        p = get_profile(profile)
    except SetupError:
        return {"profile": profile, "pins": "unknown profile"}
    return {"profile": p.name, "toolchain": p.toolchain, "mathlib": f"{p.mathlib_url}@{p.mathlib_rev}",
            "repl": f"{p.repl_url}@{p.repl_rev}" + (f" + {p.repl_flush_commit[:7]}" if p.repl_flush_commit else "")}


def _prompt(plan, tokenizer) -> dict:
    from protocol.prompts import build_prompt, get_format

    row = plan.rows[0]
    chat = get_format(plan.fmt).kind == "chat"
    prompt = build_prompt(row, plan.fmt, tokenizer if chat else None)
    out: dict[str, Any] = {"problem": row.get("name"), "messages": prompt.messages}
    if not chat:
        out.update(template="none (a continuation prompt: the text below is the whole input)", text=prompt.text)
    elif tokenizer is not None and getattr(tokenizer, "chat_template", None):
        out.update(template="the model's own chat template (its tokenizer, found on this machine)", text=prompt.text)
    else:
        out.update(template="the model's own chat template (tokenizer_config.json), applied at run time with "
                            "add_generation_prompt=True; its tokenizer is not on this machine, so the messages "
                            "are shown unrendered", text=None)
    return out


def _engine(plan) -> dict:
    spec, recipe = plan.spec, plan.recipe
    seqs = spec.k
    if spec.engine == "vllm":
        ctx = recipe.max_model_len if recipe else None
        return {"engine": "vllm", "max_model_len": ctx or "the model's own",
                "batch": f"up to {spec.batch_problems} problems x {seqs} samples per generate call "
                         f"({spec.batch_problems * seqs} sequences), scheduled by vLLM's paged KV cache",
                "gpus": recipe.gpus if recipe else 1}
    return {"engine": "hf",
            "batch": f"at most {HF_MAX_BATCH} sequences per generate call, lowered at load to what free GPU memory "
                     f"holds for {plan.params.max_tokens} new tokens (KV-cache estimate from the model config)",
            "gpus": recipe.gpus if recipe else 1}


def describe(spec: EvalSpec, settings: Optional[Settings] = None) -> dict:
    """Everything a run of `spec` would do, as data (the CLI prints it; tests compare it)."""
    from protocol.extract import SPLICING_FORMATS
    from protocol.prompts import get_format
    from prover.recipes import EXTRACTIONS, OUR_ACCEPT

    plan = plan_eval(spec, settings, need_lean=False)
    recipe = plan.recipe
    fmt_kind = get_format(plan.fmt).kind
    extraction = ("continuation" if fmt_kind == "continuation"
                  else "goedel-splice" if plan.fmt in SPLICING_FORMATS else "last-block")
    dataset = _dataset(spec, plan.rows)
    timeout, timeout_from = _timeout(plan.settings, dataset.get("profile"))
    model = plan.card["model"]
    tokenizer = local_tokenizer(model) if fmt_kind == "chat" else None
    out: dict[str, Any] = {
        "model": model,
        "recipe": recipe.name if recipe else None,
        "prompt_format": plan.fmt,
        "prompt": _prompt(plan, tokenizer),
        "sampling": {"n": spec.k, "temperature": plan.params.temperature, "top_p": plan.params.top_p,
                     "max_new_tokens": plan.params.max_tokens, "stop": list(plan.params.stop),
                     "seed": f"{spec.seed}: one stream per (problem, sample), so a resumed run draws the same samples"
                     if spec.seed is not None else "none"},
        "search": {"method": spec.search, "k": spec.k, "stop_at_first": spec.stop_at_first, **plan.options},
        "extraction": f"{extraction}: {EXTRACTIONS[extraction]}",
        "acceptance": OUR_ACCEPT + ("; native_decide trusted (--trust native_decide): Lean.ofReduceBool allowed"
                                    if plan.settings.trusts("native_decide") else ""),
        "timeout_s": timeout, "timeout_from": timeout_from,
        "dataset": dataset,
        "lean": _pins(dataset.get("profile")),
        **_engine(plan),
    }
    if recipe is not None:
        paper = recipe.paper
        out["paper"] = {
            "score": paper.score, "k": paper.k, "benchmark": paper.benchmark, "setting": paper.setting,
            "source": paper.source, "dataset": recipe.dataset, "split": recipe.split, "profile": recipe.profile,
            "max_new_tokens": recipe.max_new_tokens, "temperature": recipe.temperature, "top_p": recipe.top_p,
            "timeout_s": recipe.timeout_s, "acceptance": recipe.acceptance, "extraction": recipe.extraction,
        }
        out["differs"] = list(_live_differences(out, recipe)) + list(recipe.differs)
        out["notes"] = list(recipe.notes)
    return out


def _live_differences(desc: dict, recipe) -> list[str]:
    """Where this invocation departs from the recipe (an option the user passed, another dataset)."""
    import data

    s, d = desc["sampling"], desc["dataset"]
    found = []
    for key, ours, theirs in (("max_new_tokens", s["max_new_tokens"], recipe.max_new_tokens),
                              ("temperature", s["temperature"], recipe.temperature),
                              ("top_p", s["top_p"], recipe.top_p), ("timeout_s", desc["timeout_s"], recipe.timeout_s)):
        if ours != theirs:
            found.append(f"{key} is {ours} here, {theirs} in the paper's setting")
    if desc["prompt_format"] != recipe.prompt_format:
        found.append(f"prompt format {desc['prompt_format']} here, {recipe.prompt_format} in the paper's setting")
    wanted = data.loaders.ALIASES.get(recipe.dataset, recipe.dataset)
    if d.get("variant") != wanted:
        shipped = wanted in data.VARIANTS
        found.append(f"dataset {d.get('variant') or d['name']} here; the paper scored on {recipe.dataset}"
                     + ("" if shipped else " (not shipped on this install)"))
    if d["split"] != recipe.split:
        found.append(f"split {d['split']} here, {recipe.split} in the paper")
    if d.get("profile") and d["profile"] != recipe.profile:
        found.append(f"Lean profile {d['profile']} here, {recipe.profile} for the paper's setting")
    return found


def render(desc: dict) -> str:
    """The description as the text `--dry-run` prints."""
    lines = ["dry run: nothing was loaded or checked", ""]

    def row(key: str, value: Any) -> None:
        lines.append(f"{key + ':':<18}{value}")

    row("model", desc["model"])
    row("recipe", desc["recipe"] or "none (the format comes from the model's prover.json or --format)")
    if "paper" in desc:
        p = desc["paper"]
        score = f"{p['score']}%" if p["score"] is not None else "no number found"
        row("paper", f"{score} pass@{p['k']} on {p['benchmark']}; {p['setting']}")
        row("paper source", p["source"])
    row("prompt format", desc["prompt_format"])
    row("chat template", desc["prompt"]["template"])
    s = desc["sampling"]
    row("sampling", f"n={s['n']} temperature={s['temperature']} top_p={s['top_p']} seed={s['seed']}")
    row("max new tokens", s["max_new_tokens"])
    row("stop", s["stop"] or "none (EOS)")
    row("search", ", ".join(f"{k}={v}" for k, v in desc["search"].items()))
    row("extraction", desc["extraction"])
    row("acceptance", desc["acceptance"])
    if "paper" in desc:
        row("upstream accepts", desc["paper"]["acceptance"])
    row("timeout", f"{desc['timeout_s']:g} s per check ({desc['timeout_from']})")
    d = desc["dataset"]
    row("dataset", f"{d['name']} -> {d.get('variant') or 'a file'}: {d['file']}, split {d['split']}, "
                   f"{d['problems']} problems")
    row("dataset sha256", d.get("sha256", "n/a"))
    lean = desc["lean"]
    row("lean profile", lean["profile"])
    for key in ("toolchain", "mathlib", "repl"):
        if key in lean:
            row(f"  {key}", lean[key])
    row("engine", desc["engine"] + (f", max_model_len {desc['max_model_len']}" if "max_model_len" in desc else "")
        + f", {desc['gpus']} GPU(s) for the weights")
    row("batch", desc["batch"])
    for note in desc.get("notes", []):
        row("note", note)
    for diff in desc.get("differs", []):
        row("differs", diff)
    pr = desc["prompt"]
    lines += ["", f"first problem ({pr['problem']}), the full prompt:"]
    if pr["text"] is not None:
        lines += ["-" * 72, pr["text"], "-" * 72]
    else:
        for m in pr["messages"]:
            lines += [f"--- {m['role']} " + "-" * max(0, 67 - len(m["role"])), m["content"]]
        lines.append("-" * 72)
    return "\n".join(lines)
