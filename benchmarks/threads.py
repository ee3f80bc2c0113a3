"""torch threads on a shared CPU: wall and CPU seconds of tiny-model training steps and sampling
with 1 and 2 threads, interleaved (so both see the same load), with the load average printed.

    python benchmarks/threads.py [--reps 3] [--layers 4 --hidden 128 --batch 32 --seq 160]

Why: on a 2-core machine shared with Lean workers and other jobs, an oversubscribed torch pool
spins; the right setting is measured, not assumed (docs/cpu-world.md)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(fn) -> tuple[float, float]:
    w0, c0 = time.monotonic(), time.process_time()
    fn()
    return time.monotonic() - w0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4, help="training steps per timing")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=160)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)

    import torch
    from transformers import AutoModelForCausalLM

    from prover.tiny_model import build_tiny_model

    path = build_tiny_model(Path(tempfile.mkdtemp()) / "m", layers=args.layers, hidden=args.hidden, seed=0,
                            vocab_size=1024)
    model = AutoModelForCausalLM.from_pretrained(path)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randint(3, model.config.vocab_size, (args.batch, args.seq))
    prompt = torch.randint(3, model.config.vocab_size, (16, 60))

    def train():
        for _ in range(args.steps):
            loss = model(input_ids=x, labels=x).loss
            loss.backward()
            opt.step()
            opt.zero_grad()

    def generate():
        with torch.no_grad():
            model.generate(prompt, max_new_tokens=48, do_sample=True, pad_token_id=0)

    res: dict = {}
    for rep in range(args.reps):
        for t in args.threads:
            torch.set_num_threads(t)
            for name, fn in (("train", train), ("generate", generate)):
                w, c = timed(fn)
                res.setdefault((name, t), []).append((w, c, os.getloadavg()[0]))
    print(f"tiny Llama {args.layers}L/{args.hidden}H; train: {args.steps} steps of batch {args.batch} x {args.seq} "
          f"tokens; generate: 16 prompts x 48 new tokens; {args.reps} interleaved reps")
    print("| work | torch threads | wall s (median) | CPU s (median) | load (1 min) during |")
    print("|---|---:|---:|---:|---|")
    for (name, t), v in sorted(res.items()):
        ws, cs, ls = sorted(a for a, _, _ in v), sorted(b for _, b, _ in v), [c for _, _, c in v]
        print(f"| {name} | {t} | {ws[len(ws) // 2]:.2f} | {cs[len(cs) // 2]:.2f} | {min(ls):.1f}-{max(ls):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
