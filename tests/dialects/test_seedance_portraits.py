"""Ark portraits storyboard makes (issue 69.2): ``identity: {ark: {asset: make}}``.

A character whose sheet storyboard drew from words gets a portrait made in (emulated) Ark's asset
library, on its signed control plane: planned and priced (0.00, unverified), journaled, made once
(a second render makes none; a render stopped between CreateAsset and Active resumes it, never
creating another), its id in the lock, and sent as ``asset://ID`` where its sheet's URL went
(golden body in ``tests/golden/seedance-portrait.json``; ``STORYBOARD_WRITE_GOLDEN=1`` rewrites
it). A face named by a file is refused at its line; an account without the add-on, a wrong secret
and unset variables are clear errors that print no key; each key reaches only its own host.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from storyboard.language.compile import compile_lenient
from storyboard.language.series import load_source
from storyboard.targets import volcsign
from storyboard.targets.arkassets import LIBRARIES
from storyboard.targets.models import SEEDANCE_20_ARK
from tests.fixtures.gateway_runs import quick_render
from tests.fixtures.media_host import POLL, Handler

ARK_KEY = "ark-canary-key-5151"
ACCESS = "AKLTcanaryaccess77"
SECRET = "canary-secret-access-key-9090"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "seedance-portrait.json"
SERIES = """\
storyboard: 1
title: Portraits
defaults: {resolution: 720P, ratio: "16:9", duration: 4, model: MODEL}
provider: {name: ark, base_url: 'BASE', media_base_url: 'HOSTED', assets_url: 'ASSETS', poll: [0.1]WAIT}
output: {loudness: null}
characters:
  mia:
    image: {generate: "a barista in her thirties, short dark hair, green apron"}
    identity: {ark: {asset: make}}
episodes:
  - id: ep01
    shots:
      - {id: one, prompt: "@mia waves at the window"}
"""


def series(root: Path, *, base: str = "https://ark.example.com/api/v3",
           hosted: str = "https://media.example.com", assets: str = "https://open.example.com",
           wait: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = (SERIES.replace("MODEL", SEEDANCE_20_ARK.id).replace("BASE", base)
            .replace("HOSTED", hosted).replace("ASSETS", assets).replace("WAIT", wait))
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


def line_of(root: Path, needle: str) -> int:
    text = (root / "storyboard.yaml").read_text(encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


# -- check, at the line ----------------------------------------------------------------------------

def test_a_sheet_drawn_from_words_compiles_to_a_portrait_the_shot_waits_for(tmp_path: Path) -> None:
    root = series(tmp_path / "s")
    manifest, problems = compile_lenient(load_source(root), provider="ark")
    assert [p.message for p in problems if p.severity == "error"] == []
    assert not [p for p in problems if p.code == "identity-faces"]  # it goes as a portrait
    [portrait] = [a for a in manifest.cast if a.episode == "portraits"]
    [sheet] = [a for a in manifest.cast if a.episode == "cast"]
    assert portrait.asset is not None and portrait.asset.kind == "portrait"
    assert portrait.asset.model == LIBRARIES["ark"].model
    assert portrait.needs == {"cast/mia": sheet.hash}
    [shot] = manifest.episodes[0].shots
    assert [(m.role, m.ref.asset if m.ref else None) for m in shot.request.media] == [
        ("reference_image", "portraits/mia")]
    assert shot.needs == {"portraits/mia": portrait.hash}
    manifest, _ = compile_lenient(load_source(root), provider="dashscope")  # no Ark: none made
    assert not [a for a in manifest.cast if a.episode == "portraits"]


@pytest.mark.parametrize(("image", "message"), [
    ("image: media/mia.png", "a real person's face goes through the vendor's own liveness "
     "verification, which storyboard cannot perform; expected a sheet drawn from words"),
    ('image: {generate: "a barista", refs: [media/mia.png]}', "drawn from pictures (refs) that "
     "may show a real person, to the vendor's asset library, and this character declares no "
     "permission; expected identity.permission"),
])
def test_a_face_that_may_be_a_real_person_s_is_refused_at_its_line(
        tmp_path: Path, make_media: Any, image: str, message: str) -> None:
    root = series(tmp_path / "s")
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    path = root / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'image: {generate: "a barista in her thirties, short dark hair, green apron"}', image),
        encoding="utf-8")
    _, problems = compile_lenient(load_source(root), provider="ark")
    [found] = [p for p in problems if "asset: make" in p.message]
    assert found.severity == "error" and message in found.message, found.message
    assert found.span is not None and found.span.line == line_of(root, "asset: make")


# -- the signature ---------------------------------------------------------------------------------

def test_a_signature_holds_only_for_its_secret_body_and_region() -> None:
    body = b'{"Id":"asset-1"}'
    query = {"Action": "GetAsset", "Version": "2024-01-01"}
    signed = volcsign.signed_headers(ACCESS, SECRET, method="POST", host="open.example.com",
                                     path="/", query=query, body=body, region="cn-beijing",
                                     service="ark", now=1_790_000_000)
    assert SECRET not in json.dumps(signed)
    assert signed["Authorization"].startswith(
        f"HMAC-SHA256 Credential={ACCESS}/20260921/cn-beijing/ark/request, "
        "SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=")
    headers = {k.lower(): v for k, v in signed.items()} | {"host": "open.example.com"}
    check = partial(volcsign.verify, method="POST", path="/", query=query, service="ark",
                    now=1_790_000_000)
    assert check(headers, body=body, secret=SECRET, region="cn-beijing") == ACCESS
    assert check(headers, body=body, secret="another", region="cn-beijing") is None
    assert check(headers, body=b'{"Id":"asset-2"}', secret=SECRET, region="cn-beijing") is None
    assert check(headers, body=body, secret=SECRET, region="ap-southeast-1") is None
