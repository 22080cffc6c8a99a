"""`--debug` lines stay whole when parallel requests log at once."""

from __future__ import annotations

import threading

import pytest

from runner.cli.context import _debug_line


def test_debug_lines_from_many_threads_never_interleave(capsys: pytest.CaptureFixture[str]) -> None:
    def log(worker: int) -> None:
        for i in range(300):
            _debug_line(f"GET /api/v2/tasks/{worker}/{i} -> 200 in 1 ms")

    threads = [threading.Thread(target=log, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 8 * 300
    assert all(line.startswith("debug: GET ") and line.endswith(" ms") for line in lines)
