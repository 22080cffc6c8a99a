"""The simulator treats a client that hangs up mid-answer as traffic, and any other fault as one."""

from __future__ import annotations

import pytest

from runner.sim.server import SimServer


def _report(server: SimServer, error: BaseException) -> None:
    assert server._httpd is not None
    try:
        raise error
    except BaseException:
        server._httpd.handle_error(None, ("127.0.0.1", 1))


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError()])
def test_a_client_that_hangs_up_prints_no_traceback(
    error: BaseException, capsys: pytest.CaptureFixture[str]
) -> None:
    with SimServer() as server:
        _report(server, error)
    assert capsys.readouterr().err == ""


def test_any_other_fault_while_serving_is_still_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SimServer() as server:
        _report(server, ValueError("a bug in the simulator"))
    assert "ValueError: a bug in the simulator" in capsys.readouterr().err
