"""The driver shared by searches that take problems one at a time (MCTS, BFS): stream one
ProblemRecord per row and account each problem's wall time, so they plug into evaluation
exactly where best-of-n does."""
from __future__ import annotations

import time
from typing import Iterable, Iterator

from search.records import ProblemRecord

Row = dict


class OneProblemAtATime:
    """Subclasses set `self.stats` (a SearchStats) and implement `_solve(row)`."""

    def search(self, row: Row) -> ProblemRecord:
        return next(iter(self.run([row])))

    def run(self, rows: Iterable[Row]) -> Iterator[ProblemRecord]:
        for row in rows:
            start = time.monotonic()
            try:
                yield self._solve(row)
            finally:
                self.stats.wall_seconds += time.monotonic() - start

    def _solve(self, row: Row) -> ProblemRecord:
        raise NotImplementedError
