"""Who may import whom: the batch's values and logic stay clear of the HTTP models, and the
backends of their users. Every import counts, `TYPE_CHECKING` ones and late ones included."""

from __future__ import annotations

import ast
from pathlib import Path

import runner

RUNNER = Path(runner.__file__).parent


def imported(path: Path) -> set[str]:
    """Every module `path` imports (relative imports resolved), wherever the import is."""
    package = ".".join(path.relative_to(RUNNER.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def offending(paths: list[Path], forbidden: str) -> dict[str, list[str]]:
    hits = {
        str(p.relative_to(RUNNER.parent)): sorted(
            m for m in imported(p) if m == forbidden or m.startswith(forbidden + ".")
        )
        for p in paths
    }
    return {name: mods for name, mods in hits.items() if mods}


def test_executor_planner_and_observer_import_nothing_of_the_http_layer() -> None:
    paths = [
        *sorted((RUNNER / "execute").glob("*.py")),
        *(RUNNER / name for name in ("plan.py", "observe.py", "observation.py", "item.py")),
    ]
    assert offending(paths, "runner.coder") == {}


def test_backends_import_nothing_of_the_executor() -> None:
    assert offending(sorted((RUNNER / "backends").glob("*.py")), "runner.execute") == {}


def test_the_planner_takes_values_not_the_observer_or_preflight() -> None:
    plan = [RUNNER / "plan.py"]
    assert offending(plan, "runner.observe") == {}
    assert offending(plan, "runner.preflight") == {}


def test_the_item_module_is_low() -> None:
    """`runner/item.py` imports the standard library and the lowest runner modules only."""
    runner_imports = {m for m in imported(RUNNER / "item.py") if m.startswith("runner")}
    assert runner_imports <= {"runner", "runner.money", "runner.money.usd"} | {
        "runner.manifest.model",
        "runner.manifest.model.DesiredTask",
    }
