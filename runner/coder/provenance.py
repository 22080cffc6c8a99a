"""Which response keys the client reads, so tests can check each one against Coder's contract.

Off unless `TASKS_RECORD_READS` names a file: then every decoded response body is wrapped in
views that append one JSON line per key read (first sight per server version, method, path
and key) to that file: `{"version", "method", "path", "status", "key": [...]}`, where `key`
is the path into the body with `[]` for an array item. When off, bodies pass through untouched.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, SupportsIndex

if TYPE_CHECKING:
    import httpx

ENV = "TASKS_RECORD_READS"
_BUILD_VERSION_HEADER = "X-Coder-Build-Version"

_lock = threading.Lock()
_seen: set[tuple[str, ...]] = set()


class _Origin:
    """Where a body came from, and the file its reads go to."""

    def __init__(self, target: str, response: httpx.Response) -> None:
        request = response.request
        self.target = target
        self.fields = {
            "version": response.headers.get(_BUILD_VERSION_HEADER, ""),
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
        }

    def read(self, key: tuple[str, ...]) -> None:
        identity = (self.target, *(str(v) for v in self.fields.values()), *key)
        with _lock:
            if identity in _seen:
                return
            _seen.add(identity)
            with open(self.target, "a", encoding="utf-8") as out:
                out.write(json.dumps({**self.fields, "key": list(key)}) + "\n")


def _view(value: Any, origin: _Origin, key: tuple[str, ...]) -> Any:
    if isinstance(value, dict) and not isinstance(value, ReadRecordingDict):
        return ReadRecordingDict(value, origin, key)
    if isinstance(value, list) and not isinstance(value, ReadRecordingList):
        return ReadRecordingList(value, origin, key)
    return value


class ReadRecordingDict(dict[str, Any]):
    """A JSON object that records each key looked up (`get`, `[]`, `in`).

    Iteration and `dict(...)` copies are not lookups: printing the whole body reads no field.
    """

    def __init__(self, data: Mapping[str, Any], origin: _Origin, key: tuple[str, ...]) -> None:
        super().__init__(data)
        self._origin = origin
        self._key = key

    def _child(self, name: str, value: Any) -> Any:
        self._origin.read((*self._key, name))
        return _view(value, self._origin, (*self._key, name))

    def __getitem__(self, name: str) -> Any:
        return self._child(name, super().__getitem__(name))

    def get(self, name: str, default: Any = None) -> Any:
        return self._child(name, super().get(name, default))

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self._origin.read((*self._key, name))
        return super().__contains__(name)


class ReadRecordingList(list[Any]):
    """A JSON array whose items record the keys read from them."""

    def __init__(self, data: list[Any], origin: _Origin, key: tuple[str, ...]) -> None:
        super().__init__(data)
        self._origin = origin
        self._key = (*key, "[]")

    def __iter__(self) -> Iterator[Any]:
        for item in super().__iter__():
            yield _view(item, self._origin, self._key)

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        value = super().__getitem__(index)
        if isinstance(index, slice):
            return [_view(item, self._origin, self._key) for item in value]
        return _view(value, self._origin, self._key)


def observe(data: Any, response: httpx.Response) -> Any:
    """`data` (decoded from `response`), wrapped to record reads when recording is on."""
    target = os.environ.get(ENV)
    if not target:
        return data
    return _view(data, _Origin(target, response), ())


def keep(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A model's copy of its body: the recording view itself, so later reads are seen too."""
    return data if isinstance(data, ReadRecordingDict) else dict(data)
