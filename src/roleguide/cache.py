"""One bounded cache for everything computed per question and reused (query vectors, word
vectors, sentence analyses): least recently used entries go first, so memory stays bounded
in a long-running server and the hot entries stay."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

__all__ = ["LRUCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """A thread-safe mapping of at most ``maxsize`` entries, the least recently used dropped
    first. Values are computed outside the lock, so a slow computation blocks no reader.

    >>> cache = LRUCache[str, int](2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
    1
    >>> sorted(cache.keys())
    ['a', 'c']
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self) -> list[K]:
        with self._lock:
            return list(self._data)

    def get(self, key: K) -> V | None:
        """The cached value (now the most recently used), or None."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._put(key, value)

    def _put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def cached(self, key: K, compute: Callable[[K], V]) -> V:
        """The value for ``key``, computed by ``compute(key)`` and kept when missing."""
        value = self.get(key)
        if value is None:
            value = compute(key)
            self.put(key, value)
        return value

    def cached_many(
        self, keys: Iterable[K], compute: Callable[[list[K]], Iterable[V]]
    ) -> dict[K, V]:
        """The values for ``keys``; the missing ones (in the order given, duplicates once)
        computed together by one ``compute(missing)`` call, which returns them in order."""
        wanted = list(dict.fromkeys(keys))
        found: dict[K, V] = {}
        with self._lock:
            for key in wanted:
                value = self._data.get(key)
                if value is not None:
                    self._data.move_to_end(key)
                    found[key] = value
        missing = [k for k in wanted if k not in found]
        if missing:
            values = list(compute(missing))
            if len(values) != len(missing):
                raise ValueError(f"computed {len(values)} values for {len(missing)} keys")
            with self._lock:
                for key, value in zip(missing, values, strict=True):
                    self._put(key, value)
                    found[key] = value
        return found

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
