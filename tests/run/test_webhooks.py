"""Freepik-style status callbacks: known task ids only, signed, and only ever a reason to poll now."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.run import read_status
from storyboard.run.trip.pace.webhooks import Tally, Waker, WebhookListener, parse_listen
from storyboard.targets.signatures.webhooks import sign, verify
from tests.fixtures import web
from tests.fixtures.compiler import write_series
from tests.fixtures.media_host import serve

KEY = "fp-key-321"
SECRET = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMw=="
MakeMedia = Callable[..., Path]
SHOTS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
    - {id: b, prompt: "@mia sings"}
"""


def head(emu: EmulatorServer, poll: str, max_wait: float = 600,
         host: str = "https://cdn.example.com") -> str:
    return f"""\
storyboard: 1
title: Hooks
defaults: {{resolution: 720P, ratio: "16:9", duration: 2}}
provider: {{name: freepik, base_url: '{emu.gateway_url("freepik")}', poll: {poll},
  max_wait: {max_wait}, media_base_url: '{host}/s',
  webhook_secret_env: HOOK_SECRET}}
output: {{loudness: null}}
characters:
  mia: {{image: media/mia.png}}
  sam: {{video: media/sam.mp4}}
  guitar: {{image: media/guitar.png}}
"""


@pytest.fixture
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.5, plain_results=True, api_key=KEY,
                        webhook_secret=SECRET) as server:
        yield server


@pytest.fixture
def host(tmp_path: Path) -> Iterator[str]:
    """``tmp_path`` over loopback HTTP: the media host a render tries before paying."""
    with serve(tmp_path) as origin:
        yield origin


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREEPIK_API_KEY", KEY)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    monkeypatch.setenv("CI", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def render(series: Path, port: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "storyboard", "render", str(series), "--yes", "--json",
            "-o", str(series / "out"), "--set", f"webhook_listen=127.0.0.1:{port}"]
    return subprocess.Popen(args, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_callbacks_wake_the_pollers(tmp_path: Path, make_media: MakeMedia,
                                    emu: EmulatorServer, host: str) -> None:
    # Polls every 600 s: without the callbacks this render could not end within the timeout.
    series = write_series(tmp_path / "s", make_media, SHOTS, head=head(emu, "[600]", host=host))
    child = render(series, free_port())
    out, err = child.communicate(timeout=90)
    assert child.returncode == 0, err.decode(errors="replace")
    report = json.loads(out)
    assert {s["state"] for s in report["shots"]} == {"done"}
    assert emu.stats()["webhooks"].get("204", 0) >= 2  # accepted, signed callbacks
    assert emu.stats()["submissions"]["total"] == 2


def test_a_forged_completed_callback_never_finishes_a_task(tmp_path: Path, make_media: MakeMedia,
                                                           emu: EmulatorServer, host: str) -> None:
    emu.script("task:stuck")  # the first task runs forever, as the API keeps saying
    series = write_series(tmp_path / "s", make_media, SHOTS.split("    - {id: b")[0],
                          head=head(emu, "[0.3]", max_wait=4, host=host))
    port = free_port()
    child = render(series, port)
    try:
        deadline = time.monotonic() + 30
        while not [a for a in _rows(series) if a.task_id]:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        task_id = next(a.task_id for a in _rows(series) if a.task_id)
        forged = json.dumps({"task_id": task_id, "status": "COMPLETED",
                             "generated": ["http://127.0.0.1:9/forged.mp4"]}).encode()
        stamp = int(time.time())
        signed = {"webhook-id": "m1", "webhook-timestamp": str(stamp),
                  "webhook-signature": sign(SECRET, "m1", stamp, forged)}
        url = f"http://127.0.0.1:{port}/"
        assert web.post(url, content=forged, headers=signed).status_code == 204
        assert web.post(url, content=forged).status_code == 401  # unsigned
        other = forged.replace(task_id.encode(), b"not-ours")
        resigned = {**signed, "webhook-signature": sign(SECRET, "m1", stamp, other)}
        assert web.post(url, content=other, headers=resigned).status_code == 404
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 1, err.decode(errors="replace")
    shot = json.loads(out)["shots"][0]
    assert shot["state"] == "pending" and shot["task_id"] == task_id
    assert not any(a.state == "done" for a in read_status(series))


def _rows(series: Path) -> list[Any]:
    try:
        return list(read_status(series))
    except Exception:  # no journal yet
        return []


def test_signatures() -> None:
    body = b'{"task_id": "t"}'
    stamp = int(time.time())
    headers = {"webhook-id": "i", "webhook-timestamp": str(stamp),
               "webhook-signature": "v1,bogus " + sign(SECRET, "i", stamp, body)}
    assert verify(SECRET, headers, body)
    assert not verify(SECRET, headers, body + b" ")
    assert not verify("other-secret", headers, body)
    assert not verify(SECRET, {**headers, "webhook-timestamp": str(stamp - 3600)}, body)


def test_listener_counts_and_parses() -> None:
    seen: list[str] = []
    with WebhookListener("127.0.0.1", 0, DIALECTS["freepik"], lambda t: seen.append(t) or
                         t == "t-1", Waker()) as hook:
        url = f"http://127.0.0.1:{hook.port}/"
        assert web.post(url, json={"task_id": "t-1", "status": "IN_PROGRESS"}).status_code \
            == 204
        assert web.post(url, json={"data": {"task_id": "t-1"}}).status_code == 204
        assert web.post(url, content=b"not json").status_code == 400
        assert web.post(url, json={"task_id": "t-2"}).status_code == 404
    assert (hook.tally.accepted, hook.tally.unknown, hook.tally.malformed) == (2, 1, 1)
    assert parse_listen("0.0.0.0:8787") == ("0.0.0.0", 8787)
    with pytest.raises(Exception, match="HOST:PORT"):
        parse_listen("8787")


def test_emulate_announces_a_gateway_and_speaks_it() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--port", str(port),
                             "--dialect", "arrays", "--fault-script", "submit:503"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/gw/arrays"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                web.get(f"http://127.0.0.1:{port}/_emulator/stats", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the emulator never answered"
                time.sleep(0.1)
        body = {"prompt": "Image1 waves", "images": ["https://example.com/a.png"],
                "duration": 2, "resolution": "720P"}
        url = base + "/api/v3/alibaba/wan-2.7/reference-to-video"
        headers = {"Authorization": "Bearer k"}
        assert web.post(url, json=body, headers=headers).status_code == 503  # the fault
        answer = web.post(url, json=body, headers=headers).json()
        task = web.get(f"{base}/api/v3/predictions/{answer['data']['id']}/result",
                         headers=headers).json()
        assert task["data"]["status"] in ("created", "processing", "completed")
        assert web.post(url, json=body).status_code == 401  # no key
        stats = web.get(f"http://127.0.0.1:{port}/_emulator/stats").json()
        assert stats["submissions"]["total"] == 1 and stats["requests"]["submit"] == 3
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"emulating Marketplace with image and video arrays at {base}" in out


def test_a_gateway_without_callbacks_refuses_webhook_listen(
        tmp_path: Path, make_media: MakeMedia, emu: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    text = head(emu, "[0.2]", host=host).replace("name: freepik", "name: arrays").replace(
        "/gw/freepik", "/gw/arrays").replace("webhook_secret_env: HOOK_SECRET", "timeout: 30")
    series = write_series(tmp_path / "s", make_media, SHOTS, head=text)
    monkeypatch.setenv("ARRAYS_API_KEY", KEY)
    done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series), "--yes",
                           "--set", "webhook_listen=127.0.0.1:0"], capture_output=True,
                          timeout=60, check=False, env=dict(os.environ))
    assert done.returncode == 1
    assert b"arrays sends no status callbacks" in done.stderr
    assert emu.stats()["submissions"]["total"] == 0


@pytest.mark.parametrize("length", [None, "abc", "-1", " 12x", str(64 << 20), "1e3"])
def test_a_bad_content_length_is_refused_at_once_unread(
        length: str | None, capfd: pytest.CaptureFixture[str]) -> None:
    # The listener has no read timeout: had it waited for the body (the claimed length, or EOF),
    # it would never answer while the socket stays open, and recv would time out. So an answer at
    # all, with nothing tallied (not even "malformed"), is the proof that nothing was read; the
    # socket's timeout is only a bound on a failure, never a clock the test races.
    header = "" if length is None else f"Content-Length: {length}\r\n"
    with WebhookListener("127.0.0.1", 0, DIALECTS["freepik"], lambda t: True, Waker()) as hook, \
            socket.create_connection(("127.0.0.1", hook.port), timeout=30) as sock:
        sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\n{header}\r\n".encode()
                     + b'{"task_id": "t-1"}')  # the socket stays open: nothing waits for EOF
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer
    assert hook.tally == Tally(), hook.tally  # refused before the body: not even read as malformed
    assert "Traceback" not in capfd.readouterr().err


def test_a_webhook_url_without_a_listener_is_refused(tmp_path: Path, make_media: MakeMedia) -> None:
    """``--webhook-url`` names the public address of ``--webhook-listen``: alone it would be
    silently ignored, so it is a usage error (exit 2), before anything is compiled or rendered."""
    from click.testing import CliRunner

    import storyboard
    from storyboard.cli import cli
    from storyboard.errors import StoryboardError
    from tests.fixtures.compiler import MIA_HEAD
    series = write_series(tmp_path / "s", make_media,
                          "- id: ep01\n  shots:\n    - {id: a, prompt: \"@mia waves\"}\n",
                          head=MIA_HEAD)
    result = CliRunner().invoke(cli, ["render", str(series), "--set",
                                      "webhook_url=https://hooks.example/"])
    assert result.exit_code == 2
    assert "--set webhook_url goes with --set webhook_listen" in result.output
    assert not (series / "out").exists() and not (series / ".storyboard" / "local").exists()
    with pytest.raises(StoryboardError, match="webhook_url needs webhook_listen"):
        storyboard.render(series, webhook_url="https://hooks.example/")
    assert not (series / "out").exists()
