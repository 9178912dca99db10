"""A provider's key into its own host only: a ``provider:`` block's settings belong to the provider it names.

``render --provider X`` on a series whose block names another provider Y used to take Y's
``base_url``, so X's key went to Y's host. Here, for every pair, Y's block points at a loopback
listener that records what reaches it, and X renders against the emulator (its host from the
environment, as ``DASHSCOPE_HTTP_BASE_URL`` and ``FREEPIK_BASE_URL`` say): the listener receives
nothing, let alone a key, and ``config --provider X`` shows none of Y's settings.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.emulator import EmulatorServer
from storyboard.media import samples
from storyboard.providers.dashscope.wire import BASE_URL_ENV
from storyboard.providers.gateway.settings import base_url_env
from storyboard.run import config as run_config
from storyboard.run.trip.model import RunOptions
from storyboard.targets import NATIVE_SIZES
from storyboard.targets.wire.gateways import DEFAULT_MODEL, TARGETS
from tests.fixtures.drawings import video_once
from tests.fixtures.media_host import Hosted, serve_tls

KEY = "sk-canary-own-host-4242"
KEYED = ("dashscope", *sorted(GATEWAYS))  # every provider that sends a key
OTHERS = (*KEYED, "comfyui")
# The renderer of each pair renders the test's wan2.7-r2v shot: every provider that sells it. The
# vendors that sell only their own models (Seedance's ark and modelark, kling, MiniMax's
# minimax, minimaxi, minimax-hailuo and minimaxi-hailuo) are every other renderer's block here,
# and their own keys' hosts are held by their own tests (tests/dialects/test_minimax.py for MiniMax's).
RENDERERS = [name for name in KEYED if name == "dashscope" or DEFAULT_MODEL in TARGETS[name].models]
PAIRS = [(mine, other) for mine in RENDERERS for other in OTHERS if other != mine]


class Recorder(BaseHTTPRequestHandler):
    """Records every request (line, headers, body) and answers 200 ``{}``."""

    seen: list[str]

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        self.seen.append(f"{self.requestline}\n{self.headers}\n{body}")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Recording", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def quick_render(body: dict[str, Any], out: Path, **_: object) -> None:
    params = body.get("parameters") or {}
    size = NATIVE_SIZES.get((params.get("resolution", "720P"), params.get("ratio", "16:9")),
                            (320, 180))
    video_once(out, size[0], size[1], seconds=float(params.get("duration", 2)), fps=10)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.05, render=quick_render, api_key=KEY, seed=5,
                        fetch_media=True) as server:  # fetches the picture, as a gateway does
        yield server


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosted]:
    folder = tmp_path_factory.mktemp("media")
    samples.image(folder / "mia.png", 320, 320)
    with serve_tls(folder) as served:  # the picture by URL: no gateway needs media_base_url
        yield served


@pytest.fixture
def media(hosted: Hosted, monkeypatch: pytest.MonkeyPatch) -> str:
    """The picture's origin, ``https://localhost:PORT`` (a reference may not be plain http:// nor
    name a loopback address), its throwaway authority trusted by this test's httpx clients: the
    CLI's and the emulator's, which fetches each URL a body names, as a gateway does."""
    monkeypatch.setenv("SSL_CERT_FILE", str(hosted.ca))
    return hosted.origin


def other_block(other: str, url: str) -> str:
    if other == "comfyui":
        return f"{{name: comfyui, instances: ['{url}'], base_url: '{url}'}}"
    extra = f", media_base_url: '{url}', headers: {{X-Trace: t}}" if other in GATEWAYS else ""
    return f"{{name: {other}, base_url: '{url}', poll: [0.1]{extra}}}"


def series(folder: Path, other: str, url: str, media: str) -> Path:
    folder.mkdir()
    (folder / "storyboard.yaml").write_text(
        'storyboard: 1\ndefaults: {resolution: 720P, ratio: "16:9", duration: 2}\n'
        f"provider: {other_block(other, url)}\n"
        "output: {loudness: null}\n"  # its episode's loudness is not what this test checks
        f"characters:\n  mia: {{image: '{media}/mia.png'}}\n"
        "episodes:\n  - id: ep01\n    shots:\n      - {id: a, prompt: \"@mia waves\"}\n",
        encoding="utf-8")
    return folder


def own_host(mine: str, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key set; the rendering provider's host (only) from the environment: the emulator.
    The renderer takes nothing from the other's block, so it would first poll after the default
    2 s; the emulator's task is done at once, so it polls at once (75 pairs: minutes saved)."""
    monkeypatch.setattr(run_config, "RunOptions", functools.partial(RunOptions, poll_schedule=(0.05,)))
    for name in KEYED:
        monkeypatch.setenv(DIALECTS[name].key_env, KEY)
        monkeypatch.delenv(base_url_env(name), raising=False)
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    if mine == "dashscope":
        monkeypatch.setenv(BASE_URL_ENV, emulator.base_url)
    else:
        monkeypatch.setenv(base_url_env(mine), emulator.gateway_url(mine))


@pytest.mark.parametrize(("mine", "other"), PAIRS, ids=[f"{m}-in-{o}s-block" for m, o in PAIRS])
def test_a_key_reaches_only_its_own_providers_host(
        mine: str, other: str, tmp_path: Path, listener: tuple[str, list[str]],
        emulator: EmulatorServer, media: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = listener
    seen.clear()
    folder = series(tmp_path / "s", other, url, media)
    own_host(mine, emulator, monkeypatch)
    shown = CliRunner().invoke(cli, ["config", str(folder), "--provider", mine])
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if re.match(r"^[a-z_]\S* {2,}\S", line)]
    assert rows and not [row for row in rows if url in row or "series file: provider." in row]
    before = emulator.stats()["submissions"]["total"]
    result = CliRunner().invoke(cli, ["render", str(folder), "--provider", mine, "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert emulator.stats()["submissions"]["total"] == before + 1  # rendered, on its own host
    assert seen == []  # nothing at all reached the other provider's host
    assert KEY not in result.output


def test_the_named_provider_still_takes_its_block(tmp_path: Path, listener: tuple[str, list[str]],
                                                 media: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = listener
    folder = series(tmp_path / "s", "freepik", url, media)
    monkeypatch.delenv("FREEPIK_BASE_URL", raising=False)
    for flags in ([], ["--provider", "freepik"]):
        shown = CliRunner().invoke(cli, ["config", str(folder), *flags])
        assert shown.exit_code == 0, shown.output
        assert re.search(rf"^base_url +{re.escape(url)}  \[series file: provider.base_url\]$",
                         shown.output, re.MULTILINE), shown.output


def test_a_variation_naming_another_provider_takes_none_of_the_blocks_settings(
        tmp_path: Path, media: str) -> None:
    from storyboard.language.variations import compile_variations
    folder = series(tmp_path / "s", "freepik", "http://127.0.0.1:9/gw", media)
    text = (folder / "storyboard.yaml").read_text(encoding="utf-8")
    (folder / "storyboard.yaml").write_text(text.replace("characters:", (
        "variations:\n  matrix: {provider: [freepik, dashscope, {name: arrays, poll: [1]}]}\n"
        '  name: "{{ provider.name if provider is mapping else provider }}"\ncharacters:')),
        encoding="utf-8")
    blocks = {m.name.partition("/")[2]: m.provider for m in compile_variations(folder).manifests}
    assert blocks["freepik"]["base_url"] == "http://127.0.0.1:9/gw"  # its own block, kept
    assert blocks["dashscope"] == {"name": "dashscope"}
    assert blocks["arrays"] == {"name": "arrays", "poll": [1]}


def test_check_says_when_a_block_is_another_providers(tmp_path: Path, media: str) -> None:
    folder = series(tmp_path / "s", "freepik", "http://127.0.0.1:9/gw", media)
    shown = CliRunner().invoke(cli, ["check", str(folder), "--provider", "dashscope"])
    assert shown.exit_code == 0, shown.output
    assert "storyboard.yaml:3:1: warning: this block is freepik's: --provider dashscope uses " \
           "none of its settings (base_url, headers, media_base_url, poll)" in shown.output
    same = CliRunner().invoke(cli, ["check", str(folder), "--provider", "freepik"])
    assert same.exit_code == 0 and "warning" not in same.output


NAMELESS = [name for name in RENDERERS if name in ("dashscope", "freepik", "openai-video")]


@pytest.mark.parametrize("mine", NAMELESS)
def test_a_block_without_a_name_is_locals_and_takes_no_key(
        mine: str, tmp_path: Path, listener: tuple[str, list[str]], emulator: EmulatorServer,
        media: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``provider: {base_url: ...}`` names no provider, so it is ``local``'s: ``render
    --provider dashscope`` must not read it as DashScope's and send the key to its host."""
    url, seen = listener
    seen.clear()
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "storyboard.yaml").write_text(
        'storyboard: 1\ndefaults: {resolution: 720P, ratio: "16:9", duration: 2}\n'
        f"provider: {{base_url: '{url}', media_base_url: '{url}', headers: {{X-Trace: t}}}}\n"
        "output: {loudness: null}\n"
        f"characters:\n  mia: {{image: '{media}/mia.png'}}\n"
        "episodes:\n  - id: ep01\n    shots:\n      - {id: a, prompt: \"@mia waves\"}\n",
        encoding="utf-8")
    own_host(mine, emulator, monkeypatch)
    before = emulator.stats()["submissions"]["total"]
    result = CliRunner().invoke(cli, ["render", str(folder), "--provider", mine, "--yes", "--json"])
    assert not [request for request in seen if KEY in request]  # the key never went there
    assert seen == []  # nor anything else: the nameless block's host heard nothing
    assert result.exit_code == 0, result.output
    assert emulator.stats()["submissions"]["total"] == before + 1
    shown = CliRunner().invoke(cli, ["config", str(folder), "--provider", mine])
    assert shown.exit_code == 0 and url not in shown.output, shown.output
    assert KEY not in result.output
