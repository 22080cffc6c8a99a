"""The live view on a real terminal (a pseudo-terminal): redraws leave one clean copy.

A tiny screen model replays what the command wrote: newlines, `ESC[nF` (up n lines, but never
above the top of the screen) and `ESC[J` (clear to the end). Whatever piles up there is what a
person would see left behind.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import termios
import time
from pathlib import Path
from typing import Any

from conftest import sim_env, start_tasks

ROWS, COLUMNS = 10, 80
_CONTROL = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def screen(output: str, rows: int) -> list[str]:
    """The lines left on (and scrolled off) a terminal of `rows` rows after `output`."""
    lines = [""]
    row = 0
    position = 0
    for match in [*_CONTROL.finditer(output), None]:
        end = match.start() if match else len(output)
        for char in output[position:end]:
            if char == "\n":
                row += 1
                if row == len(lines):
                    lines.append("")
            elif char != "\r":
                lines[row] += char
        if match is None:
            break
        position = match.end()
        count = int(match.group(1) or 1)
        if match.group(2) == "F":
            top = max(0, len(lines) - rows)
            row = max(top, row - count)
            lines[row] = ""
        elif match.group(2) == "J":
            del lines[row + 1 :]
            lines[row] = ""
    return lines


def run_on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    terminal = {**env, "TERM": "xterm", "COLUMNS": "", "LINES": ""}
    proc = start_tasks(args, env=terminal, stdout=slave, stderr=slave, text=False)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = proc.wait(timeout=10)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_live_view_leaves_one_copy_of_each_row_on_a_small_terminal(
    sim: Any, tmp_path: Path
) -> None:
    path = tmp_path / "live.tasks.yaml"
    path.write_text(
        """\
version: 1
batch: live
defaults: {template: claude-code, timeout: 30s}
tasks:
  - name: "row-{{ matrix.n }}"
    prompt: "row {{ matrix.n }} [sim:work=1]"
    follow_ups: ["next [sim:work=1]"]
    matrix:
      n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
"""
    )
    args = ["apply", str(path), "--yes", "--poll-interval", "50ms", "--idle-grace", "100ms"]
    code, output = run_on_terminal(args, sim_env(sim))
    assert code == 0, output
    assert "\x1b[" in output, "no live view on a terminal"
    lines = screen(output, ROWS)
    assert all(len(line) < COLUMNS for line in lines if line.startswith("  admin/")), lines
    live_rows = [line for line in lines if line.startswith("  admin/") or "... and" in line]
    # One final block only: no stale copies above it, and it fits the screen.
    assert len(live_rows) <= ROWS - 1, "\n".join(lines)
    names = [line.split()[0] for line in live_rows if line.startswith("  admin/")]
    assert len(names) == len(set(names)), "\n".join(lines)
    assert "Apply: 12 ok" in output
