"""A deployment behind a private certificate authority, over real TLS on loopback.

`data/` holds a test-only CA (`test-ca.pem`) and a server certificate for 127.0.0.1 signed by
it (`server.pem`, `server.key`); they protect nothing.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runner.coder.client import CoderClient
from runner.coder.config import resolve_connection
from runner.errors import TransportError

DATA = Path(__file__).with_name("data")


class _Buildinfo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"version": "v2.34.2+tls", "dashboard_url": ""}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Buildinfo)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(DATA / "server.pem", DATA / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_private_ca_without_bundle_is_a_tls_transport_error(https_url: str) -> None:
    connection = resolve_connection(url=https_url, token="tls-token-1", environ={})
    with (
        CoderClient(connection, sleep=lambda s: None) as client,
        pytest.raises(TransportError) as caught,
    ):
        _ = client.server
    message = caught.value.message
    assert message.startswith(f"cannot reach {https_url}: TLS failure")
    assert "--ca-bundle" in message
    assert "tls-token-1" not in message


def test_private_ca_with_bundle_connects(https_url: str) -> None:
    connection = resolve_connection(
        url=https_url, token="tls-token-2", ca_bundle=str(DATA / "test-ca.pem"), environ={}
    )
    with CoderClient(connection) as client:
        assert client.server.generation == "ga"


def test_ssl_cert_file_is_the_fallback_bundle(https_url: str) -> None:
    connection = resolve_connection(
        url=https_url, token="tls-token-3", environ={"SSL_CERT_FILE": str(DATA / "test-ca.pem")}
    )
    with CoderClient(connection) as client:
        assert client.server.version == "v2.34.2+tls"
