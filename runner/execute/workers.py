"""The worker threads that make a run's requests, `parallelism` at a time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class Workers:
    """A fixed set of daemon threads running requests, `parallelism` at a time.

    Daemon threads, unlike a ThreadPoolExecutor's, are not waited for when the process exits:
    after Ctrl-C, a worker still sleeping out a rate limit (up to minutes) must neither keep
    the command from exiting nor send its request once the run has been reported interrupted.
    """

    def __init__(self, count: int) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"apply-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((future, job))
        return future

    def close(self) -> None:
        """Stop the workers once the queued jobs are done."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def abandon(self) -> None:
        """Cancel queued jobs and leave running ones behind (they die with the process)."""
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            future, job = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except BaseException as error:  # handed to the engine thread, which decides
                future.set_exception(error)
            else:
                future.set_result(result)
