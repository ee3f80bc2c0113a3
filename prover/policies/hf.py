"""A policy on HF transformers `generate`: CPU or GPU, any model transformers loads (LoRA via
peft, see prover.models). The default backend: it needs nothing beyond the pinned install."""
from __future__ import annotations

import time
from typing import Any, Optional, Sequence

from protocol.policy import Completion, GenerationStats, SamplingParams, cut_at_stop


class HFPolicy:
    backend = "hf"

    def __init__(self, model: Any, tokenizer: Any, name: str = "", max_batch: int = 64):
        """`max_batch` bounds the sequences (prompts x n) generated at once, i.e. memory."""
        self.model = model
        self.tokenizer = tokenizer
        self.name = name or getattr(model.config, "_name_or_path", "model")
        self.max_batch = max_batch
        self.stats = GenerationStats()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._eos_ids = self._eos_token_ids()

    @classmethod
    def load(cls, model: Optional[str] = None, *, device: str = "auto", dtype: str = "auto",
             adapter: Optional[str] = None, max_batch: int = 64, settings=None) -> "HFPolicy":
        from prover.models import load_hf

        m, tok, name = load_hf(model, device=device, dtype=dtype, adapter=adapter, settings=settings)
        return cls(m, tok, name=name, max_batch=max_batch)

    def _eos_token_ids(self) -> set[int]:
        ids = getattr(self.model.generation_config, "eos_token_id", None)
        ids = set(ids if isinstance(ids, (list, tuple)) else [ids] if ids is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    @property
    def device(self):
        return next(self.model.parameters()).device

    def _encode(self, prompts: Sequence[str]):
        bos = getattr(self.tokenizer, "bos_token", None)
        # A chat template may already have written the BOS token: do not add a second one.
        add_special = not (bos and all(p.startswith(bos) for p in prompts))
        self.tokenizer.padding_side = "left"
        return self.tokenizer(list(prompts), return_tensors="pt", padding=True,
                              add_special_tokens=add_special).to(self.device)

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        import torch

        start = time.monotonic()
        if params.seed is not None:
            torch.manual_seed(params.seed)
        n_gen = 1 if params.temperature == 0 else params.n  # greedy: one sample, repeated
        per_chunk = max(1, self.max_batch // n_gen)
        seeds = params.seeds if n_gen == params.n else None
        out: list[list[Completion]] = []
        for i in range(0, len(prompts), per_chunk):
            chunk_seeds = None if seeds is None else [s for row in seeds[i : i + per_chunk] for s in row]
            out += self._generate_chunk(prompts[i : i + per_chunk], params, n_gen, chunk_seeds)
        if n_gen != params.n:
            out = [[Completion(c.text, c.finish_reason, c.num_tokens, c.logprob) for _ in range(params.n) for c in cs]
                   for cs in out]
        self.stats.calls += 1
        self.stats.completions += sum(len(cs) for cs in out)
        self.stats.tokens += sum(c.num_tokens for cs in out for c in cs)
        self.stats.seconds += time.monotonic() - start
        return out

    def _generate_chunk(self, prompts: Sequence[str], params: SamplingParams, n_gen: int,
                        seeds: Optional[list[int]] = None) -> list[list[Completion]]:
        import torch

        seeded = params.temperature > 0 and seeds is not None
        # seeded: each prompt repeated n times (greedy decoding takes one sequence per input)
        enc = self._encode([p for p in prompts for _ in range(n_gen)] if seeded else prompts)
        kwargs: dict = dict(max_new_tokens=params.max_tokens, num_return_sequences=1 if seeded else n_gen,
                            pad_token_id=self.tokenizer.pad_token_id)
        if seeded:
            # each sequence from its own stream: argmax of log p + Gumbel noise is a sample of p
            from transformers import LogitsProcessorList

            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None,
                          logits_processor=LogitsProcessorList([_SeededSampler(seeds, params, self.device)]))
        elif params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        with torch.inference_mode():
            seqs = self.model.generate(**enc, **kwargs)
        prompt_len = enc["input_ids"].shape[1]
        new = seqs[:, prompt_len:].tolist()
        results: list[list[Completion]] = []
        for p in range(len(prompts)):
            row = []
            for j in range(n_gen):
                ids = new[p * n_gen + j]
                end = next((k + 1 for k, t in enumerate(ids) if t in self._eos_ids), None)
                ids = ids[: end or len(ids)]
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                text, stopped = cut_at_stop(text, params.stop)
                if stopped:
                    ids = ids[: self._tokens_until(ids, params.stop)]
                finish = "stop" if (stopped or end is not None or len(ids) < params.max_tokens) else "length"
                row.append(Completion(text, finish, len(ids)))
            results.append(row)
        if params.logprobs:
            for p, row in enumerate(results):
                q = p * n_gen if seeded else p  # the input row of prompt p
                ids = enc["input_ids"][q][enc["attention_mask"][q].bool()].tolist()
                for j, c in enumerate(row):
                    c.logprob = self._score(ids, new[p * n_gen + j][: c.num_tokens])
        return results

    def _tokens_until(self, ids: list[int], stop: Sequence[str]) -> int:
        """The fewest leading tokens whose text already contains a stop string (HF stops only
        when a stop string ends the text; vLLM, and we, stop at one anywhere)."""
        lo, hi = 1, len(ids)
        while lo < hi:
            mid = (lo + hi) // 2
            if cut_at_stop(self.tokenizer.decode(ids[:mid], skip_special_tokens=True), stop)[1]:
                hi = mid
            else:
                lo = mid + 1
        return hi

    def _score(self, prompt_ids: list[int], completion_ids: list[int]) -> float:
        """Sum of log p(token) over the generated tokens, under the model itself (no temperature
        or top-p): one teacher-forced forward pass, cheap next to sequential decoding."""
        import torch

        if not completion_ids:
            return 0.0
        ids = torch.tensor([prompt_ids + completion_ids], device=self.device)
        with torch.inference_mode():
            logits = self.model(ids).logits[0, len(prompt_ids) - 1 : -1].float()
        logp = torch.log_softmax(logits, dim=-1)
        return float(logp.gather(1, torch.tensor(completion_ids, device=self.device)[:, None]).sum())

    def close(self) -> None:
        pass


class _SeededSampler:
    """A logits processor that samples each sequence of a generate call from its own generator
    (Gumbel-max: argmax(log softmax(top-p(logits / T)) + G) with G ~ Gumbel(0, 1)), used with
    greedy decoding. A sequence's tokens then depend on its seed alone, not on which sequences
    share the batch or how many: transformers' own sampling draws the whole batch from one
    global generator. Row r of the call is sequence r (prompt-major, as num_return_sequences
    lays them out)."""

    def __init__(self, seeds: Sequence[int], params: SamplingParams, device):
        import torch
        from transformers import TemperatureLogitsWarper, TopPLogitsWarper

        self.generators = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
        self.warpers = [TemperatureLogitsWarper(params.temperature)]
        if params.top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(params.top_p))

    def __call__(self, input_ids, scores):
        import torch

        if scores.shape[0] != len(self.generators):
            raise RuntimeError(f"seeded sampling got {scores.shape[0]} sequences for {len(self.generators)} seeds")
        for warp in self.warpers:
            scores = warp(input_ids, scores)
        logp = torch.log_softmax(scores.float(), dim=-1)
        u = torch.stack([torch.rand(scores.shape[-1], generator=g, device=scores.device) for g in self.generators])
        return logp - torch.log(-torch.log(u.clamp(min=1e-20, max=1.0 - 1e-7)))
