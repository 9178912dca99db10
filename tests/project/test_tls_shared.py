"""Every HTTP client storyboard makes shares one TLS context (``storyboard.tls``): loading a CA
bundle costs about 17 ms of CPU a client, and a breakdown asks a local server's description, a
render checks media URLs, a worker makes clients for every batch."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storyboard import tls
from storyboard.breakdown.chat.client import described
from storyboard.providers import protocol


class Describing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"model": "tiny"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Describing)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/props"
    httpd.shutdown()
    httpd.server_close()


def test_clients_share_one_context_made_once(server: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real = httpx.create_ssl_context

    def counted(*args: object, **kwargs: object) -> object:
        made.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    tls._context.cache_clear()
    for _ in range(3):
        assert described(server) == {"model": "tiny"}
    assert protocol.tls() is tls.context()
    assert len(made) == 1  # httpx makes one per client it makes itself: three here, else


def test_a_changed_certificate_setting_gets_its_own_context(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first = tls.context()
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert tls.context() is not first and tls.context() is tls.context()
