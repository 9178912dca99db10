"""`storyboard emulate --real-face --portrait` as a real process: Ark's real-person refusal and its
portrait library, in Ark's own error shape (issue 69.2)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from storyboard.targets.signatures import volcsign
from storyboard.targets.video.models import SEEDANCE_20_ARK
from tests.fixtures import web


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def body(url: str) -> dict[str, Any]:
    return {"model": SEEDANCE_20_ARK.id, "duration": 4, "resolution": "720p", "content": [
        {"type": "text", "text": "Image 1 waves"},
        {"type": "image_url", "image_url": {"url": url}, "role": "reference_image"}]}


def test_emulate_refuses_a_real_face_by_url_and_takes_a_held_portrait() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--port", str(port),
                             "--dialect", "ark", "--real-face", "mia.png",
                             "--portrait", "asset-20261101-mia"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/gw/ark/contents/generations/tasks"
    headers = {"Authorization": "Bearer k"}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                refused = web.post(url, json=body("https://cdn.example.com/s/mia.png"),
                                     headers=headers, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator never answered"
                time.sleep(0.1)
        assert refused.status_code == 400
        assert refused.json() == {"error": {
            "code": "InputImageSensitiveContentDetected.PrivacyInformation",
            "message": "The request failed because the input image (content[1]) may contain "
                       "real person."}}
        taken = web.post(url, json=body("asset://asset-20261101-mia"), headers=headers,
                           timeout=5)
        assert taken.status_code == 200 and taken.json()["id"]
        unknown = web.post(url, json=body("asset://asset-other"), headers=headers, timeout=5)
        assert unknown.status_code == 400
        assert unknown.json()["error"]["code"] == "InvalidParameter"
        other = web.post(url, json=body("https://cdn.example.com/s/sam.png"), headers=headers,
                           timeout=5)
        assert other.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def signed(port: int, secret: str, payload: bytes) -> dict[str, str]:
    return volcsign.signed_headers("AKLTtest", secret, method="POST", host=f"127.0.0.1:{port}",
                                   path="/volc/ark/", query=ACTION, body=payload,
                                   region="cn-beijing", service="ark")


ACTION = {"Action": "CreateAssetGroup", "Version": "2024-01-01"}


def test_emulate_without_the_asset_library_answers_subscription_required() -> None:
    """The control plane checks the signature first (with ``--api-key`` as the secret), then
    says the account lacks the add-on."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--port", str(port),
                             "--api-key", "sk-secret", "--no-asset-library"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/volc/ark/?Action=CreateAssetGroup&Version=2024-01-01"
    payload = b'{"GroupType":"AIGC","Name":"storyboard","ProjectName":"default"}'
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                wrong = web.post(url, content=payload, headers=signed(port, "other", payload),
                                   timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator never answered"
                time.sleep(0.1)
        assert wrong.status_code == 401
        assert wrong.json()["ResponseMetadata"]["Error"]["Code"] == "SignatureDoesNotMatch"
        lacking = web.post(url, content=payload, headers=signed(port, "sk-secret", payload),
                             timeout=5)
        assert lacking.status_code == 400
        assert lacking.json()["ResponseMetadata"]["Error"] == {
            "Code": "SubscriptionRequired", "Message": "This API requires an active subscription"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
