"""A redirect that leaves a provider's host into a request without its key, whatever the header.

httpx drops only ``Authorization`` when a redirect changes origin; a gateway's own key header
(``x-freepik-api-key``), its declared extra headers and DashScope's ``X-DashScope-*`` would follow.
Two loopback servers here (two ports: two origins) record every request's headers: the provider's
host answers ``/away`` with a 302 to the other server and ``/near`` with a 302 to itself. The key
reaches the other server under no name; on the same host it still goes along.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.providers import protocol
from storyboard.providers.dashscope.provider import DASHSCOPE, DashScopeProvider
from storyboard.providers.dashscope.settings import DashScopeSettings
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.targets import TaskState, TaskStatus

KEY = "sk-canary-redirect-7731"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 64


@dataclass
class Host:
    """One loopback server: its origin, the headers of each request it got, by path."""

    url: str = ""
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    target: str = ""  # where ``/away`` sends a client


def handler(host: Host) -> type[BaseHTTPRequestHandler]:
    class Recording(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            hop = {"/away": host.target + "/video", "/near": host.url + "/video"}
            if self.path in hop:
                self.send_response(302)
                self.send_header("Location", hop[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(VIDEO)))
            self.end_headers()
            self.wfile.write(VIDEO)

        def log_message(self, *args: Any) -> None:
            pass
    return Recording


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[Host, Host]]:
    """The provider's host and another origin (another port), both on 127.0.0.1."""
    pair = (Host(), Host())
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), handler(host)) for host in pair]
    for host, server in zip(pair, servers, strict=True):
        host.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    pair[0].target = pair[1].url
    try:
        yield pair
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def gateway(name: str, url: str, monkeypatch: pytest.MonkeyPatch, root: Path) -> GatewayProvider:
    dialect = DIALECTS[name]
    monkeypatch.setenv(dialect.key_env, KEY)
    if dialect.secret_env:
        monkeypatch.setenv(dialect.secret_env, "secret-" + KEY)
    return GatewayProvider.from_settings(
        dialect, {"name": name, "base_url": url, "headers": {"X-Trace": "t"}}, root)


def private_names(provider: GatewayProvider) -> set[str]:
    return {provider.settings.auth_header.lower(), "x-trace"}  # its key's header, its extras


def fetch(provider: GatewayProvider, url: str, dest: Path) -> None:
    async def go() -> None:
        try:
            await provider.download(TaskState("t1", TaskStatus.SUCCEEDED, video_url=url), dest)
        finally:
            await provider.aclose()
    asyncio.run(go())


@pytest.mark.parametrize("name", sorted(GATEWAYS))
def test_a_gateways_key_does_not_follow_a_redirect_off_its_host(
        name: str, hosts: tuple[Host, Host], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    home, other = hosts
    home.seen.clear()
    other.seen.clear()
    provider = gateway(name, home.url, monkeypatch, tmp_path)
    fetch(provider, home.url + "/away", tmp_path / "away.mp4")
    assert (tmp_path / "away.mp4").read_bytes() == VIDEO
    [(path, sent_home)] = home.seen
    assert path == "/away" and provider.settings.auth_header.lower() in sent_home  # it went home
    [(path, sent_away)] = other.seen
    assert path == "/video"
    assert not (private_names(provider) | {"authorization"}) & set(sent_away), sent_away
    assert not [value for value in sent_away.values() if KEY in value]


@pytest.mark.parametrize("name", ["freepik", "kling"])
def test_a_redirect_on_the_same_host_keeps_the_key(
        name: str, hosts: tuple[Host, Host], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    home, other = hosts
    home.seen.clear()
    other.seen.clear()
    provider = gateway(name, home.url, monkeypatch, tmp_path)
    fetch(provider, home.url + "/near", tmp_path / "near.mp4")
    assert [path for path, _ in home.seen] == ["/near", "/video"] and other.seen == []
    assert private_names(provider) <= set(home.seen[1][1])  # the same origin: nothing dropped


def test_dashscopes_headers_do_not_follow_a_redirect_off_its_host(
        hosts: tuple[Host, Host], monkeypatch: pytest.MonkeyPatch) -> None:
    home, other = hosts
    home.seen.clear()
    other.seen.clear()
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    provider = DashScopeProvider(DashScopeSettings(base_url=home.url))
    headers = {**provider._auth_headers(), **DASHSCOPE.submit_headers, "X-DashScope-Trace": "t"}

    async def go() -> None:
        try:
            await protocol.send(provider._client(), "GET", home.url + "/away", provider="dashscope",
                                what="a query", key=provider._key, headers=headers,
                                follow_redirects=True)
        finally:
            await provider.aclose()
    asyncio.run(go())
    assert {"authorization", "x-dashscope-async", "x-dashscope-trace"} <= set(home.seen[0][1])
    [(path, sent_away)] = other.seen
    assert path == "/video"
    assert not [name for name in sent_away if name == "authorization" or
                name.startswith("x-dashscope-")], sent_away
