"""The house's size limits, so a long function or an overgrown executor module is caught when
it is written: no function in `runner/` over 60 lines, no module in `runner/execute/` over 350."""

from __future__ import annotations

import ast
from pathlib import Path

import runner

RUNNER = Path(runner.__file__).parent
MAX_FUNCTION_LINES = 60
MAX_EXECUTE_MODULE_LINES = 350


def test_no_function_is_over_sixty_lines() -> None:
    long = []
    for path in sorted(RUNNER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(RUNNER.parent)}:{node.lineno} {node.name}")
    assert long == []


def test_no_executor_module_is_over_350_lines() -> None:
    long = [
        path.name
        for path in sorted((RUNNER / "execute").glob("*.py"))
        if len(path.read_text().splitlines()) > MAX_EXECUTE_MODULE_LINES
    ]
    assert long == []
