"""SIGTERM and SIGHUP handled like Ctrl-C, so a cancelled CI job still gets its results.

GitLab, Kubernetes and most CI runners cancel a job with SIGTERM; a closed terminal sends
SIGHUP. Both raise `Terminated` (a KeyboardInterrupt) in the main thread, so every place that
already stops cleanly on Ctrl-C does the same for them; the exit code is 128 + the signal.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from runner.errors import EXIT_INTERRUPTED

_HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal other than SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def describe(stop: KeyboardInterrupt) -> tuple[str, int]:
    """How a stop came (`SIGTERM`, `SIGHUP` or `Ctrl-C`) and the exit code it means."""
    if isinstance(stop, Terminated):
        return signal.Signals(stop.signum).name, stop.exit_code
    return "Ctrl-C", EXIT_INTERRUPTED


_received: list[int] = []


def received() -> int | None:
    """The signal that stopped this process, if one did (the exit code is 128 + it)."""
    return _received[-1] if _received else None


def _raise(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Terminated(signum)


@contextmanager
def stop_like_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP interrupt the main thread as Ctrl-C does."""
    previous: list[tuple[int, object]] = []
    try:
        for signum in _HANDLED:
            previous.append((signum, signal.signal(signum, _raise)))
    except ValueError:
        pass  # not the main thread (an in-process caller): leave the handlers alone
    try:
        yield
    finally:
        for signum, handler in previous:
            signal.signal(signum, handler)  # type: ignore[arg-type]
