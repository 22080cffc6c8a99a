"""The session token leaks nowhere, even when the server echoes it back.

A small loopback proxy of this test's own sits in front of the simulator. It forwards every
request and answers with what the simulator said, except that it echoes the session token the
client sent: in a response header and a cookie on every answer, and in the message and detail
of every error body. Every command runs with `--debug` against it: apply with `--report`,
`--junit` and a GitHub step summary (a create that fails for good carries an echoed error into
the reports, and failing sends into the event lines),
`plan --out`, and each imperative command, successful and failing. The test then searches every
output stream and every file written for the token, its secret part, and their base64 and
URL-encoded forms.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from conftest import TEST_TIME_SCALE, Result, run_tasks

from runner.sim.server import SimServer

FAST = ["--poll-interval", "50ms", "--idle-grace", "100ms"]
#: Response headers the proxy does not copy: it sets its own framing.
HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}


class EchoingProxy:
    """Forwards to `upstream` and echoes the caller's token back in headers and error bodies."""

    def __init__(self, upstream: SimServer) -> None:
        target = upstream.url.removeprefix("http://")
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                token = self.headers.get("Coder-Session-Token", "")
                proxy.tokens_seen.add(token)
                upstream_conn = http.client.HTTPConnection(target, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream_conn.request(self.command, self.path, body=body, headers=headers)
                answer = upstream_conn.getresponse()
                data = answer.read()
                upstream_conn.close()
                if answer.status >= 400 and token:
                    data = echo_into_error(data, token)
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                if token:
                    self.send_header("X-Echoed-Session-Token", token)
                    self.send_header("Set-Cookie", f"coder_session_token={token}; Path=/")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        self.tokens_seen: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def echo_into_error(data: bytes, token: str) -> bytes:
    """Coder's error body with the token in its message and detail (a careless server)."""
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    body["message"] = f"{body.get('message', 'Error')} (session {token})"
    body["detail"] = f"Coder-Session-Token: {token}; {body.get('detail', '')}"
    return json.dumps(body).encode()


def forms(token: str) -> set[str]:
    """The token and its secret part, raw, URL-encoded and base64 (each of the three byte
    alignments, so that the token is found inside a longer encoded text as well)."""
    secret = token.split("-", 1)[-1]
    found: set[str] = set()
    for text in (token, secret, f"coder_session_token={token}"):
        found |= {text, quote(text, safe=""), quote_plus(text)}
        raw = text.encode()
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw).decode().rstrip("=")
            # Drop the first and last groups: they depend on the neighbouring bytes.
            core = encoded[4 if shift else 0 : -4]
            found |= {core, core.replace("+", "-").replace("/", "_")}
    return {form for form in found if len(form) >= 8}


@pytest.fixture
def echoing() -> Iterator[tuple[SimServer, EchoingProxy]]:
    sim = SimServer(time_scale=TEST_TIME_SCALE)
    sim.start()
    proxy = EchoingProxy(sim)
    yield sim, proxy
    proxy.stop()
    sim.stop()


MANIFEST = """\
version: 1
batch: leaky
defaults: {template: claude-code, timeout: 60s}
tasks:
  - name: fine
    prompt: Fix the login bug.
  - name: noisy
    prompt: Add tests for search.
    follow_ups: [Now open a pull request.]
  - name: failing
    prompt: "Give up. [sim:fail]"
"""


def test_token_appears_in_no_output_and_no_file(
    echoing: tuple[SimServer, EchoingProxy], tmp_path: Path
) -> None:
    sim, proxy = echoing
    env = {"CODER_URL": proxy.url, "CODER_SESSION_TOKEN": sim.token}
    manifest = tmp_path / "leaky.tasks.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    files = tmp_path / "out"
    files.mkdir()
    results: dict[str, Result] = {}

    def run(label: str, *args: str, extra: dict[str, str] | None = None) -> Result:
        result = run_tasks(["--debug", *args], env={**env, **(extra or {})}, timeout=120)
        assert "Traceback" not in result.output, result.output
        results[label] = result
        return result

    # One create fails for good and the first sends fail: the proxy fills each error with the
    # token, and the failed create's error reaches every report.
    sim.faults.add(method="POST", path=r"/tasks/[^/]+$", status=400, times=1)
    sim.faults.add(method="POST", path=r"/send$", status=503, times=2)
    summary = files / "step-summary.md"
    run(
        "apply",
        "apply",
        str(manifest),
        "--yes",
        *FAST,
        "--report",
        str(files / "report.json"),
        "--junit",
        str(files / "junit.xml"),
        extra={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    sim.faults.clear()
    run("plan", "plan", str(manifest), "--out", str(files / "saved.plan"))

    create = run("create", "create", "--template", "claude-code", "--name", "solo", "Do it.")
    assert create.code == 0, create.output
    run("list", "list", "--all")
    run("list-json", "list", "--all", "-o", "json")
    run("status", "status", "solo")
    run("logs", "logs", "solo")
    run("send", "send", "solo", "More, please.")
    run("pause", "pause", "solo", "--yes")
    run("resume", "resume", "solo", "--yes")
    run("delete", "delete", "solo", "--yes")
    # Failures: the error bodies carry the token.
    for command in ("status", "logs", "pause", "resume"):
        failed = run(
            f"{command}-missing",
            command,
            "no-such-task",
            *(["--yes"] * (command in ("pause", "resume"))),
        )
        assert failed.code != 0
    run("send-missing", "send", "no-such-task", "hello")
    run("delete-missing", "delete", "no-such-task", "--yes")
    run("create-bad", "create", "--template", "docker", "--name", "nope", "Do it.")
    run("wrong-token", "list", extra={"CODER_SESSION_TOKEN": sim.token[:-4] + "zzzz"})

    assert proxy.tokens_seen >= {sim.token}, "the proxy never saw the token"
    written = sorted(p for p in files.rglob("*") if p.is_file())
    assert {p.name for p in written} >= {
        "report.json",
        "junit.xml",
        "step-summary.md",
        "saved.plan",
    }
    # The echo reached the client: it reports the proxy's error text, token masked.
    assert "(session ********)" in (files / "report.json").read_text(encoding="utf-8")
    assert "(session " in results["status-missing"].stderr, results["status-missing"].stderr

    wrong = sim.token[:-4] + "zzzz"
    needles = forms(sim.token) | forms(wrong)
    for label, result in results.items():
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            leaked = sorted(n for n in needles if n in text)
            assert not leaked, f"{label} {stream} shows {leaked}:\n{text}"
    for path in written:
        text = path.read_bytes().decode("utf-8", errors="replace")
        leaked = sorted(n for n in needles if n in text)
        assert not leaked, f"{path.name} contains {leaked}"


def test_error_body_text_is_masked_where_it_is_parsed() -> None:
    """Server error text reaches event lines, tables and reports, not only the CLI's error
    line, so the token is masked where the error body is read."""
    from runner.coder.errors import error_from_response
    from runner.secrets import MASK, register_secret

    token = "Abc123defG-leaksweepsecretvalue0001"
    register_secret(token)
    body = json.dumps({"message": f"bad {token}", "detail": f"token={token}"}).encode()
    error = error_from_response(503, body, "application/json", method="POST", path="/x")
    assert token not in error.message and token not in (error.detail or "")
    assert MASK in error.message
