"""``--provider`` on check, compile and plan: a gateway's limits, its bodies, its price model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from tests.fixtures.compiler import SERIES_HEAD, write_series

MakeMedia = Callable[..., Path]
TWELVE = """\
- id: ep01
  shots:
    - id: long
      duration: 12
      prompt: "@mia walks through the park"
"""
BASE = "https://media.example.com/s"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def head(provider: str = "") -> str:
    block = f"provider: {{name: {provider}, media_base_url: {BASE}}}\n" if provider else ""
    return block + SERIES_HEAD


@pytest.fixture
def twelve(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "s", make_media, TWELVE, head=head())


def test_a_twelve_second_image_shot_is_fine_natively_and_not_for_freepik(twelve: Path) -> None:
    assert invoke("check", twelve).exit_code == 0
    assert invoke("check", twelve, "--provider", "dashscope").exit_code == 0
    result = invoke("check", twelve, "--provider", "freepik")
    assert result.exit_code == 1
    assert "storyboard.yaml:14:19: error: a 12 s" in result.stderr
    assert "a 12 s shot; freepik accepts 2 to 10 s" in result.stderr
    # and freepik needs public URLs for local files: said at check time, before any submit
    assert "set provider.media_base_url" in result.stderr


def test_the_series_provider_block_names_the_gateway(tmp_path: Path,
                                                     make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, TWELVE, head=head("freepik"))
    result = invoke("check", series)
    assert result.exit_code == 1 and "freepik accepts 2 to 10 s" in result.stderr
    assert "media_base_url" not in result.stderr  # mapped: the files exist locally
    # the block is freepik's: --provider arrays takes none of it (its media_base_url neither)
    other = invoke("check", series, "--provider", "arrays")
    assert other.exit_code == 1 and "this block is freepik's" in other.stderr
    assert "set provider.media_base_url" in other.stderr


def test_a_bad_media_base_url_is_located(tmp_path: Path, make_media: MakeMedia) -> None:
    text = head("arrays").replace(BASE, "ftp://nope")
    series = write_series(tmp_path / "s", make_media, TWELVE, head=text)
    result = invoke("check", series)
    assert result.exit_code == 1
    assert "storyboard.yaml:1:" in result.stderr and "media_base_url" in result.stderr


def test_gateway_only_warnings(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: ep01
          shots:
            - id: a
              prompt: "@mia sings to @sam"
        """, head=head("openai-video"))
    result = invoke("check", series)
    assert result.exit_code == 0, result.stderr
    assert "openai-video takes no reference voice on an image: the voice of mia is not sent" \
        in result.stderr


@pytest.mark.parametrize(("provider", "label", "key"), [
    ("arrays", "Image1", "images"), ("roles", "image 1", "image_with_roles"),
    ("openai-video", "Image 1", "media"), ("freepik", "Image 1", "image_urls")])
def test_compile_prints_the_providers_bodies(tmp_path: Path, make_media: MakeMedia,
                                             provider: str, label: str, key: str) -> None:
    series = write_series(tmp_path / "s", make_media, TWELVE.replace("12", "8"),
                          head=head(provider))
    result = invoke("compile", series)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    request = data["episodes"][0]["shots"][0]["request"]
    assert data["provider"] == provider and key in request
    assert request["prompt"].startswith(label)
    assert f"{BASE}/media/mia.png" in json.dumps(request)


def test_plan_shows_each_providers_price_model(tmp_path: Path, make_media: MakeMedia) -> None:
    models = {}
    for provider in ("dashscope", "arrays", "freepik", "openai-video", "roles"):
        # each gateway with its own block (a block's settings are its provider's alone)
        series = write_series(tmp_path / provider, make_media, TWELVE.replace("12", "8"),
                              head=head("arrays" if provider == "dashscope" else provider))
        result = invoke("plan", series, "--provider", provider, "--json")
        assert result.exit_code == 0, result.stderr
        plan = json.loads(result.stdout)
        models[provider] = (plan["price_model"], plan["total_cost"])
    assert models["arrays"] == ("USD 0.625 a generation 720P, 0.938 a generation 1080P", 0.625)
    assert models["dashscope"][1] == pytest.approx(0.8)  # 8 s at 0.10/s
    assert "/s" in models["freepik"][0]
    text = invoke("plan", tmp_path / "arrays", "--provider", "arrays").stdout
    assert "a generation" in text


def test_the_api_takes_the_provider_too(twelve: Path) -> None:
    import storyboard
    assert storyboard.check(twelve) == [d for d in storyboard.check(twelve)
                                        if d.severity == "warning"]
    errors = [d.message for d in storyboard.check(twelve, provider="freepik")
              if d.severity == "error"]
    assert "a 12 s shot; freepik accepts 2 to 10 s" in errors
    assert any("unknown provider 'nope'" in d.message
               for d in storyboard.check(twelve, provider="nope"))


def test_an_unreachable_file_is_said_once_for_the_series(tmp_path: Path,
                                                         make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: ep01
          shots:
            - {id: a, prompt: "@guitar rests"}
            - {id: b, prompt: "@guitar shines"}
            - {id: c, prompt: "@guitar and @mia"}
        """)
    result = invoke("check", series, "--provider", "roles")
    assert result.exit_code == 1
    # one cause (no media_base_url), one error, however many local files the series names
    assert result.stderr.count("roles fetches files from public URLs: set "
                               "provider.media_base_url") == 1, result.stderr
    assert "this series' files are local (this shot's first: media/guitar.png)" in result.stderr
