"""Where fusion results live, and who may compute one when.

Sessions keep only the settings of their last fusion; the results themselves (tens to hundreds
of MB each) live in one :class:`ResultStore` per process, under a memory budget. A result pushed
out by newer ones is computed again, from its settings, when its session needs it (the
simulation is seeded, so it comes back the same).

:class:`FusionLanes` keeps one user's slow job from stalling the others: plain fusions take
turns in one lane, test-time adaptations in another, and an adaptation pauses between its steps
while a plain fusion runs or waits.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .compute import FusionResult

# The store's budget: results beyond it are dropped, least recently used first. A result of the
# 48 x 144 test region with the fast baselines and S3RNet weighs about 85 MB (the metrics'
# reference statistics included, which results of one region share), the 144 x 144 scene 260 MB.
RESULT_BUDGET_MB = float(os.environ.get("S3RNET_APP_RESULT_BUDGET_MB", "600"))


def nbytes(value: Any, seen: set[int] | None = None, depth: int = 0) -> int:
    """Bytes of the NumPy arrays reachable from ``value`` (each array counted once in ``seen``).

    Follows dicts, lists, tuples, dataclasses and the attributes of the app's and library's
    objects (a result's model extras and metric scorer), four levels deep.
    """
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 4:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(nbytes(v, seen, depth + 1) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(nbytes(v, seen, depth + 1) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name), seen, depth + 1) for f in dataclasses.fields(value))
    if type(value).__module__.startswith(("s3rnet", "app")) and hasattr(value, "__dict__"):
        return sum(nbytes(v, seen, depth + 1) for v in vars(value).values())
    return 0


class ResultStore:
    """Fusion results by key, least recently used dropped first beyond ``budget_bytes``.

    Pinned results (the start-up result) are never dropped and count in the budget. The most
    recent result is always kept, even when it alone exceeds the budget.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = int(budget_bytes)
        self._items: OrderedDict[tuple, FusionResult] = OrderedDict()
        self._pinned: set[tuple] = set()
        self._lock = threading.Lock()
        self.evictions = 0

    def get(self, key: tuple) -> FusionResult | None:
        with self._lock:
            result = self._items.get(key)
            if result is not None:
                self._items.move_to_end(key)
            return result

    def put(self, key: tuple, result: FusionResult, pin: bool = False) -> None:
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            if pin:
                self._pinned.add(key)
            self._evict(keep=key)

    def _evict(self, keep: tuple) -> None:
        while self._total() > self.budget_bytes:
            victim = next((k for k in self._items if k not in self._pinned and k != keep), None)
            if victim is None:
                return
            del self._items[victim]
            self.evictions += 1

    def _total(self) -> int:
        seen: set[int] = set()
        return sum(nbytes(result, seen) for result in self._items.values())

    def total_bytes(self) -> int:
        """Bytes held by the stored results (arrays shared between results counted once)."""
        with self._lock:
            return self._total()

    def __len__(self) -> int:
        return len(self._items)

    def scorer_for(self, match: Callable[[FusionResult], bool]) -> Any | None:
        """The metric scorer of the most recent stored result for which ``match`` holds."""
        with self._lock:
            for result in reversed(self._items.values()):
                if result.scorer is not None and match(result):
                    return result.scorer
        return None

    def clear(self) -> None:
        with self._lock:
            self._items = OrderedDict((k, v) for k, v in self._items.items() if k in self._pinned)


class FusionLanes:
    """Plain fusions one at a time; adaptations one at a time beside them, giving way.

    A plain fusion (no test-time adaptation, about a second) enters :meth:`plain`; an adapting
    one (up to minutes) enters :meth:`adaptation` and calls :meth:`give_way` between its steps,
    which waits while any plain fusion runs or waits. So a plain fusion never waits for more
    than the plain fusions ahead of it and one adaptation step.
    """

    def __init__(self) -> None:
        self._plain = threading.Lock()
        self._adapting = threading.Lock()
        self._changed = threading.Condition()
        self._plain_wanted = 0

    @contextmanager
    def plain(self, waiting: Callable[[], None] | None = None) -> Iterator[None]:
        with self._changed:
            self._plain_wanted += 1
        try:
            if not self._plain.acquire(blocking=False):
                if waiting is not None:
                    waiting()
                self._plain.acquire()
            try:
                yield
            finally:
                self._plain.release()
        finally:
            with self._changed:
                self._plain_wanted -= 1
                self._changed.notify_all()

    @contextmanager
    def adaptation(self, waiting: Callable[[], None] | None = None) -> Iterator[None]:
        if not self._adapting.acquire(blocking=False):
            if waiting is not None:
                waiting()
            self._adapting.acquire()
        try:
            yield
        finally:
            self._adapting.release()

    def give_way(self) -> None:
        """Wait while a plain fusion runs or waits (called by adaptations between steps)."""
        with self._changed:
            self._changed.wait_for(lambda: self._plain_wanted == 0)

    @property
    def plain_wanted(self) -> int:
        return self._plain_wanted
