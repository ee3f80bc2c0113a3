"""The documented multi-process launch, on the CPU: `accelerate launch --num_processes 2 -m prover.cli
train grpo --config FILE` with a tiny SFT model and the real bundled Lean. Both ranks send their
reward checks (and their share of the held-out checks) to the one `prover serve` the first
process starts; the service's own counters must equal what the ranks sent, and it must be gone
afterwards. Kept as short as a real launch allows: 2 GRPO steps of 2 prompts x 4 samples (plus
at most one refill round a step)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prover.train.config import from_dict
from prover.train.stages.sft import run_sft

pytestmark = [pytest.mark.lean, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DATA = {"dataset": "logic", "logic": {"n": 40, "seed": 0, "levels": [1]}, "max_rows": 3, "seed": 0,
        "torch_threads": 1, "report_to": "none"}


@pytest.fixture(scope="module")
def sft_model(tmp_path_factory):
    """A 2-layer model that has memorised a few one-rule proofs, so its samples reach Lean."""
    out = tmp_path_factory.mktemp("sft")
    cfg = from_dict({**DATA, "model": "tiny", "tiny": {"layers": 2, "hidden": 64, "seed": 0}, "output_dir": str(out),
                     "max_steps": 60, "per_device_train_batch_size": 3, "learning_rate": 0.03,
                     "logging_steps": 10, "save_steps": 1000}, "sft")
    return run_sft(cfg, log=lambda _: None).output_dir


@pytest.fixture(scope="module")
def launched(sft_model, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grpo2")
    config = tmp / "grpo.yaml"
    config.write_text(yaml.safe_dump({
        **DATA, "model": sft_model, "output_dir": str(tmp / "out"), "checker_backend": "cli", "checker_workers": 2,
        "checker_timeout": 60, "heldout_every": 2, "heldout_size": 3, "heldout_k": 2, "heldout_max_new_tokens": 20,
        "max_steps": 2, "num_generations": 4, "per_device_train_batch_size": 4, "max_completion_length": 20,
        "temperature": 1.2, "learning_rate": 1e-3, "logging_steps": 1, "save_steps": 1000,
        "dynamic_sampling_refills": 1}))  # DAPO's refill across processes: the same fresh prompts drawn on both
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "prover.cli", "train", "grpo",
           "--config", str(config)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    (tmp / "launch.log").write_text(log)
    print("\n".join(line for line in log.splitlines() if not line.startswith("{") and "it/s]" not in line
                    and "Warning" not in line)[-6000:])
    return proc.returncode, log, tmp


def test_two_ranks_train_and_share_one_verifier(launched):
    rc, log, tmp = launched
    assert rc == 0, log[-4000:]
    assert len(re.findall(r"shared verifier for this node: (http://\S+)", log)) == 1  # one service, not one per rank
    sent = {int(r): int(n) for r, n in re.findall(r"rank (\d): (\d+) checks sent to the shared verifier", log)}
    assert set(sent) == {0, 1} and all(n > 0 for n in sent.values())  # both ranks' samples reached Lean
    counters = re.search(r"shared verifier \S+: verdicts (\d+) \(([^)]*)\), requests refused (\d+)", log)
    assert counters, log[-4000:]
    assert int(counters.group(1)) == sum(sent.values())  # every check of every rank, answered by the one service
    assert int(counters.group(3)) == 0
    assert len(re.findall(r"grpo: 2 steps in", log)) == 2  # both ranks finished both steps
    assert len(re.findall(r"step 2: held-out pass@1", log)) == 2  # every rank took part in the held-out pass@k
    assert (tmp / "out" / "model.safetensors").is_file()
    assert "dynamic_sampling/refill_rounds" in log  # the refill ran in step on both ranks


def test_the_service_is_gone_after_the_run(launched):
    _, log, _ = launched
    url = re.search(r"shared verifier for this node: (http://\S+)", log).group(1)
    import urllib.error
    import urllib.request

    with pytest.raises((urllib.error.URLError, OSError)):
        urllib.request.urlopen(url + "/health", timeout=5)
