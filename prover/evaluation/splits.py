"""Which splits an eval scores: the held-out ones unless asked otherwise.

Why: pass@k on problems a model trained on measures recall, not proving, and a newcomer's
first `prover eval logic` must not mix the two without a word. By default a dataset with a
`train` split is scored on its other splits, and a model whose prover.json records the split
it trained on (for this dataset) is not scored on that split either; `--split NAME` scores one
split (with a warning when the model trained on it), `--split all` every split (training's
search rounds ask for that: their pools are training statements by design).
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

from prover.evaluation.errors import EvalError

ALL = "all"  # --split all: every split, training ones included
TRAIN = "train"

log = logging.getLogger("prover.eval")


def _canonical(dataset: str) -> str:
    from data.loaders import ALIASES

    return ALIASES.get(dataset, dataset)


def trained_splits(model: Optional[str], dataset: str) -> set[str]:
    """The split of `dataset` the model's prover.json says it trained on (empty when it records
    another dataset, or there is no card)."""
    if not model:
        return set()
    from prover.models import ModelLoadError, model_card

    try:
        card = model_card(model)
    except ModelLoadError:
        return set()  # loading the model reports the broken card
    split, trained_on = card.get("split"), card.get("dataset")
    if split and trained_on and _canonical(str(trained_on)) == _canonical(dataset):
        return {str(split)}
    if trained_on:
        log.info(f"note: {model}'s prover.json says it trained on {trained_on} (split {split}), not on {dataset}")
    return set()


def _training_note(split: str, trained: set[str]) -> str:
    return "the model trained on it (its prover.json)" if split in trained else "it is a training split"


def select_rows(load: Callable[..., list[dict]], dataset: str, split: Optional[str], limit: Optional[int],
                model: Optional[str]) -> list[dict]:
    """The rows to score. `load(dataset, split=, limit=)` is data.load; `split` None means the
    held-out splits, ALL every split, else that one."""
    trained = trained_splits(model, dataset)
    if split not in (None, ALL):
        if split == TRAIN or split in trained:
            log.warning(f"scoring split {split!r} as asked, but {_training_note(split, trained)}: "
                        "these scores are not held-out")
        return load(dataset, split=split, limit=limit)
    rows = load(dataset, split=None, limit=None)
    present = list(dict.fromkeys(r.get("split", "") for r in rows))
    seen_in_training = [s for s in present if s == TRAIN or s in trained]
    if split == ALL:
        if seen_in_training:  # asked for by name: a note, not a warning (training's search pools ask for it)
            log.info(f"--split all scores the training split(s) {', '.join(seen_in_training)} too: "
                     "those scores are not held-out")
        return rows[:limit] if limit is not None else rows
    if not seen_in_training:
        return rows[:limit] if limit is not None else rows
    kept = [s for s in present if s not in seen_in_training]
    if not kept:
        raise EvalError(f"{dataset} has only training split(s) ({', '.join(seen_in_training)}), so nothing is "
                        f"held out; pass --split {seen_in_training[0]} to score it anyway")
    rows = [r for r in rows if r.get("split", "") in kept]
    why = "; ".join(f"{s}: {_training_note(s, trained)}" for s in seen_in_training)
    log.info(f"scoring the held-out split(s) {', '.join(kept)}; left out {why} "
             "(--split NAME scores one split, --split all every split)")
    return rows[:limit] if limit is not None else rows
