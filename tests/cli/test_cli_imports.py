"""Imperative commands stay fast: they never import jinja2, jsonschema or yaml."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

COMMANDS = ("create", "delete", "list", "logs", "models", "pause", "resume", "send", "status")


def test_task_commands_do_not_import_manifest_dependencies() -> None:
    code = (
        "import sys, importlib\n"
        "import runner.cli.main\n"
        f"for name in {COMMANDS!r}:\n"
        "    importlib.import_module('runner.cli.commands.' + name)\n"
        "import runner.coder.client, runner.coder.chats, runner.render.chat_tables\n"
        "import runner.cli.chat_create, runner.cli.chat_views\n"
        "heavy = sorted(m for m in ('jinja2', 'jsonschema', 'yaml') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), check=True
    )
    assert result.stdout.strip() == ""
