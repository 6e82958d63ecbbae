"""SharedCalls: a TTL cache in front of a slow call, where identical concurrent calls share one call whatever its outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import TTLCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
E = TypeVar("E", bound=Exception)


@dataclass
class CallCounts:
    hits: int = 0  # answered from the cache, or by a call another thread had under way
    misses: int = 0  # answered by a call of their own
    failures: int = 0  # answered by a failure remembered from an earlier call


class SharedCalls(Generic[K, V, E]):
    """Values by key, each from one call of `call(key)`, kept `ttl` seconds (at most `max_entries` of them).

    Threads that ask for a key while its call is under way wait for that call and get its value or its exception,
    instead of each calling in turn; an exception of type `remembered` is also the answer for `failure_ttl` seconds.
    Each thread other than the caller's gets `again(exception)`: one exception object raised in many threads at once
    would pile up their tracebacks. cachetools' cached(condition=...) shares a call only when it succeeds."""

    def __init__(self, call: Callable[[K], V], *, max_entries: int, ttl: float, failure_ttl: float,
                 remembered: type[E], again: Callable[[E], E]) -> None:
        self._call = call
        self._values: TTLCache[K, V] = TTLCache(maxsize=max_entries, ttl=ttl)
        self._failures: TTLCache[K, E] | None = TTLCache(maxsize=max_entries, ttl=failure_ttl) if failure_ttl > 0 else None
        self._remembered, self._again = remembered, again
        self._flights: dict[K, Future[V]] = {}
        self._lock = threading.Lock()
        self.counts = CallCounts()

    def get(self, key: K) -> V:
        with self._lock:
            if key in self._values:
                self.counts.hits += 1
                return self._values[key]
            if self._failures is not None and key in self._failures:
                self.counts.failures += 1
                raise self._again(self._failures[key])
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
            if leading:
                self.counts.misses += 1
            else:
                self.counts.hits += 1
        return self._lead(key, flight) if leading else self._follow(flight)

    def peek(self, key: K) -> V | None:
        """The cached value of `key`, if any; never calls."""
        with self._lock:  # a TTLCache is not safe to read while another thread writes it
            return self._values.get(key)

    def values(self) -> list[tuple[K, V]]:
        """Every cached (key, value), oldest first."""
        with self._lock:
            return list(self._values.items())

    def drop(self, keys: Iterable[K]) -> None:
        """Forget these keys' values and failures; a call under way for one of them still answers its waiters, but its
        value is not kept (it may be from before whatever made the caller drop it)."""
        with self._lock:
            for key in keys:
                self._values.pop(key, None)
                self._flights.pop(key, None)
                if self._failures is not None:
                    self._failures.pop(key, None)

    def _follow(self, flight: Future[V]) -> V:
        try:
            return flight.result()
        except self._remembered as error:
            raise self._again(error) from None

    def _lead(self, key: K, flight: Future[V]) -> V:
        try:
            value = self._call(key)
        except BaseException as error:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
                    if self._failures is not None and isinstance(error, self._remembered):
                        self._failures[key] = error
            flight.set_exception(error)
            raise
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
                self._values[key] = value
        flight.set_result(value)
        return value
