"""`storyboard emulate` as a real process, and where the ffmpeg binary comes from."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.fixtures import web


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_emulate_serves_the_protocol_until_stopped() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--port", str(port),
                             "--latency", "0.1", "--fault-script", "submit:429"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stats = None
        deadline = time.monotonic() + 30
        while stats is None and time.monotonic() < deadline:
            try:
                stats = web.get(f"http://127.0.0.1:{port}/_emulator/stats", timeout=1).json()
            except httpx.HTTPError:
                time.sleep(0.1)
        assert stats is not None, "the emulator never answered"
        answer = web.post(
            f"http://127.0.0.1:{port}/api/v1/services/aigc/video-generation/video-synthesis",
            headers={"Authorization": "Bearer k", "X-DashScope-Async": "enable"},
            json={"model": "wan2.7-r2v", "input": {"prompt": "Image 1 waves", "media": [
                {"type": "reference_image", "url": "https://example.com/a.png"}]}}, timeout=5)
        assert answer.status_code == 429 and "Retry-After" in answer.headers
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/api/v1" in out
    # the line a user runs next, with the variable the DashScope provider reads
    assert f"\nexport DASHSCOPE_HTTP_BASE_URL=http://127.0.0.1:{port}/api/v1\n" in out
    assert "\nexport DASHSCOPE_API_KEY=emulator   # any key will do" in out  # and the key's


def test_emulate_prints_the_gateways_base_url_variable() -> None:
    """For a gateway dialect, the variable is the one its provider reads (FREEPIK_BASE_URL)."""
    from storyboard.providers.gateway.settings import base_url_env
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--port", str(port),
                             "--dialect", "freepik"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    url = f"http://127.0.0.1:{port}/gw/freepik"
    assert base_url_env("freepik") == "FREEPIK_BASE_URL"
    assert lines == [f"emulating Freepik-style tasks at {url}\n", f"export FREEPIK_BASE_URL={url}\n",
                     "export FREEPIK_API_KEY=emulator   # any key will do: the emulator checks none\n"]


def test_emulate_rejects_a_bad_fault_with_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "storyboard", "emulate", "--fault", "nonsense"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "fault" in proc.stderr.lower()


def test_emulate_names_the_key_variable_but_never_echoes_a_given_key() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--port", str(port),
                             "--api-key", "sekrit-123"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert lines[2] == "export DASHSCOPE_API_KEY=...   # the key given with --api-key\n"
    assert not any("sekrit" in line for line in lines)


@pytest.mark.parametrize("flags", [[], ["--comfyui", "1"]], ids=["gateways", "comfyui"])
def test_emulate_on_a_busy_port_says_so_in_one_line(flags: list[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "storyboard", "emulate", "--port", str(port),
                               *flags], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: the emulator cannot listen on 127.0.0.1:{port}: Address already in use"]
