"""Where a tiny model's training tokens go: characters per token of the plain and the fitted
tokenizer, the share of proof (completion) tokens per row for the deepseek-v1.5 and the compact
prompt, and how much of a padded batch is padding (what packing would save at most).

    python benchmarks/prompt_tokens.py [--rows 2000] [--batch 32]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=1024)
    args = ap.parse_args(argv)

    import data
    from prover.tiny_model import train_tokenizer
    from train_logic import whole_proof_rows

    rows = data.load(f"logic-v2-train:{args.rows}:seed=1")
    plain = train_tokenizer()
    print(f"{len(rows)} generated train theorems (logic-v2-train:{args.rows}:seed=1), flat tactic proofs; "
          f"batches of {args.batch} in random order\n")
    print("| prompt format | tokenizer | chars / token | tokens / row | proof share of tokens | padding in a batch |")
    print("|---|---|---:|---:|---:|---:|")
    for fmt in ("deepseek-v1.5", "compact"):
        recs = whole_proof_rows(rows, fmt)
        texts = [r["prompt"] + r["completion"] for r in recs]
        fitted = train_tokenizer(args.vocab, texts[: len(texts) // 2])  # fitted on one half, measured on the other
        held = recs[len(recs) // 2:]
        for name, tok in (("plain (384)", plain), (f"fitted ({args.vocab})", fitted)):
            p = [len(tok(r["prompt"])["input_ids"]) for r in held]
            c = [len(tok(r["completion"])["input_ids"]) for r in held]
            lens = [a + b for a, b in zip(p, c)]
            chars = sum(len(r["prompt"]) + len(r["completion"]) for r in held)
            order = list(range(len(lens)))
            random.Random(0).shuffle(order)
            pad = tot = 0
            for i in range(0, len(order), args.batch):
                b = [lens[j] for j in order[i:i + args.batch]]
                pad += max(b) * len(b) - sum(b)
                tot += max(b) * len(b)
            print(f"| {fmt} | {name} | {chars / sum(lens):.2f} | {sum(lens) / len(lens):.0f} | "
                  f"{sum(c) / sum(lens):.2f} | {pad / tot:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
