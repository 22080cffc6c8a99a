"""Batch manifests: YAML with positions, schema validation, templating, matrices.

`load_batch` is the one entry point: a file in, an immutable `Batch` of fully rendered
`DesiredTask`s out, or a `ManifestError` carrying every located problem of the file. The heavy
machinery (yaml, jsonschema, jinja2) is imported only when a manifest is actually loaded, and
only as far as the file needs it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType

from runner.manifest.model import Batch, DesiredTask, Origin

__all__ = ["Batch", "DesiredTask", "Origin", "load_batch"]

_NO_VARIABLES: Mapping[str, str] = MappingProxyType({})


def load_batch(
    path: str,
    *,
    variables: Mapping[str, str] = _NO_VARIABLES,
    env_names: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    data: bytes | None = None,
) -> Batch:
    """Load, validate, render and expand one manifest (`data`: its bytes, when already read).

    `variables` (from `--var key=value`) override the manifest's `vars`; `env_names` (from
    `--env NAME`) are the only environment variables templates may read, taken from `environ`
    (default: the process environment). Raises ManifestError with every problem, each located.
    """
    from runner.manifest.loader import load

    with _collector_paused():
        return load(path, variables=variables, env_names=env_names, environ=environ, content=data)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Without the cyclic garbage collector: a large manifest builds millions of objects that
    form no cycles, and the collector walking them again and again took a third of a
    10,000-task load (bench/manifest_load.py). Reference counting still frees what is dropped.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
