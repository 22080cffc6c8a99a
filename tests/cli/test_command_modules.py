"""No command module imports another: what commands share lives beside them in `runner/cli/`
(options, the batch run's terminal output) or below them in the library.

Read from the source, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

COMMANDS = ROOT / "runner" / "cli" / "commands"
PACKAGE = "runner.cli.commands"


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, absolute, including `from package import module` names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the commands package itself
                base = ".".join([PACKAGE, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def command_imports(path: Path) -> list[str]:
    own = f"{PACKAGE}.{path.stem}"
    modules = {f"{PACKAGE}.{p.stem}" for p in COMMANDS.glob("*.py") if p.stem != "__init__"}
    return sorted(m for m in imported_modules(path) if m in modules and m != own)


def test_no_command_module_imports_another() -> None:
    paths = sorted(p for p in COMMANDS.glob("*.py") if p.stem != "__init__")
    assert len(paths) >= 15  # every command, not an empty glob
    offenders = {p.name: command_imports(p) for p in paths if command_imports(p)}
    assert offenders == {}


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "apply.py"
    sample.write_text(
        "from runner.cli.commands.plan import source\n"
        "def f():\n"
        "    import runner.cli.commands.destroy\n"
        "    from runner.cli.commands import status\n"
        "    from . import logs\n"
        "    from runner.cli.options import confirm\n"
    )
    assert command_imports(sample) == [
        "runner.cli.commands.destroy",
        "runner.cli.commands.logs",
        "runner.cli.commands.plan",
        "runner.cli.commands.status",
    ]
