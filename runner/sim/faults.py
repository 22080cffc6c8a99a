"""Fault injection: requests that fail before the server acts, or whose response is lost after.

A rule matches a method and a regular expression searched in the URL path. `when="before"`
answers with `status` (a JSON error body) without doing anything, or, with status 0, closes the
connection without a response. `when="after"` does the work and then closes the connection
without sending the response. Random chaos (`fail_rate`, `lose_rate`) works the same way.

`ignore_label_filter` is a test-only fault no Coder release has: the chat list answers as if no
`label` filter were given (CHATS-CONTRACT 1.5 says every label must match), so every chat of the
caller reaches the client, another batch's and unlabelled ones included. It shows that the
client's own ownership checks hold without the server's filter.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass


@dataclass
class FaultRule:
    method: str
    path: re.Pattern[str]
    when: str
    times: int
    status: int

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.path.search(path) is not None


@dataclass(frozen=True)
class Fault:
    """What to do to one request."""

    when: str  # before | after
    status: int  # before: response status, 0 = drop the connection


class Faults:
    """The fault rules of one server, plus its random chaos rates."""

    def __init__(self, *, fail_rate: float = 0.0, lose_rate: float = 0.0, seed: int | None = None):
        for name, rate in (("fail_rate", fail_rate), ("lose_rate", lose_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        self.fail_rate = fail_rate
        self.lose_rate = lose_rate
        self._rng = random.Random(seed)
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        #: Test-only: the chat list ignores its `label` filter (see the module's docstring).
        self.ignore_label_filter = False

    def add(
        self,
        *,
        method: str = "*",
        path: str = ".*",
        when: str = "before",
        times: int = 1,
        status: int = 503,
    ) -> None:
        """Fail the next `times` requests matching `method` and the `path` regex."""
        if when not in ("before", "after"):
            raise ValueError(f'when must be "before" or "after", got {when!r}')
        if status != 0 and not 100 <= status <= 599:
            raise ValueError(f"status must be 0 or an HTTP status, got {status}")
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        rule = FaultRule(method.upper(), re.compile(path), when, times, status)
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any; consumes one use of the matching rule."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return Fault(rule.when, rule.status)
            if self.fail_rate and self._rng.random() < self.fail_rate:
                return Fault("before", 503)
            if self.lose_rate and self._rng.random() < self.lose_rate:
                return Fault("after", 0)
        return None
