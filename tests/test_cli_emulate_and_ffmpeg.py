"""`storyboard emulate` as a real process, and where the ffmpeg binary comes from."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


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
                stats = httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", timeout=1).json()
            except httpx.HTTPError:
                time.sleep(0.1)
        assert stats is not None, "the emulator never answered"
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/services/aigc/video-generation/video-synthesis",
            headers={"Authorization": "Bearer k", "X-DashScope-Async": "enable"},
            json={"model": "wan2.7-r2v", "input": {"prompt": "Image 1 waves", "media": [
                {"type": "reference_image", "url": "https://example.com/a.png"}]}}, timeout=5)
        assert answer.status_code == 429 and "Retry-After" in answer.headers
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/api/v1" in out


def test_emulate_rejects_a_bad_fault_with_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "storyboard", "emulate", "--fault", "nonsense"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "fault" in proc.stderr.lower()
