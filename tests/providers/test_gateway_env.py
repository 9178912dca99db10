"""Every provider's host from the environment (``FREEPIK_BASE_URL`` and the like, as
``DASHSCOPE_HTTP_BASE_URL``), so a series renders against the emulator without being edited;
``sheet`` and ``export`` take every provider ``render`` takes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.emulator import EmulatorServer
from storyboard.errors import ProblemsFound
from storyboard.providers.gateway.settings import GatewaySettings, base_url_env
from storyboard.targets import NATIVE_SIZES
from storyboard.targets.video.models import model_of
from tests.fixtures.compiler import MIA_HEAD, write_series
from tests.fixtures.drawings import video_once
from tests.fixtures.media_host import serve

MakeMedia = Callable[..., Path]
KEY = "gw-env-secret-789"
ONE = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
"""
FRAMED = """\
- id: ep01
  shots:
    - {id: a, prompt: "the barista waves", first_frame: media/mia.png}
"""


def quick_render(body: dict[str, Any], out: Path, **_: object) -> None:
    params = body["parameters"]
    model = model_of(str(body["model"]))
    sizes = {**NATIVE_SIZES, **(model.caps.sizes if model else {})}
    width, height = sizes[(params["resolution"], params.get("ratio", "16:9"))]
    video_once(out, width, height, seconds=float(params["duration"]), fps=10)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.1, render=quick_render, api_key=KEY, seed=3) as server:
        yield server


def test_each_gateway_has_its_own_variable() -> None:
    assert {name: base_url_env(name) for name in GATEWAYS} == {
        "openai-video": "OPENAI_VIDEO_BASE_URL", "freepik": "FREEPIK_BASE_URL",
        "roles": "ROLES_BASE_URL", "arrays": "ARRAYS_BASE_URL", "ark": "ARK_BASE_URL",
        "modelark": "MODELARK_BASE_URL", "kling": "KLING_BASE_URL",
        "minimax": "MINIMAX_BASE_URL", "minimaxi": "MINIMAXI_BASE_URL",
        "minimax-hailuo": "MINIMAX_HAILUO_BASE_URL", "minimaxi-hailuo": "MINIMAXI_HAILUO_BASE_URL"}


def test_the_series_block_wins_and_a_bad_value_is_named() -> None:
    freepik = DIALECTS["freepik"]
    env = {"FREEPIK_BASE_URL": "http://127.0.0.1:9/gw/"}
    assert GatewaySettings.from_mapping(freepik, {}, env).base_url == "http://127.0.0.1:9/gw"
    assert GatewaySettings.from_mapping(freepik, {}, {}).base_url == freepik.base_url
    block = {"base_url": "https://mine.example.com"}
    assert GatewaySettings.from_mapping(freepik, block, env).base_url == block["base_url"]
    with pytest.raises(ProblemsFound) as found:
        GatewaySettings.from_mapping(freepik, {}, {"FREEPIK_BASE_URL": "ftp://x"})
    assert "FREEPIK_BASE_URL: 'ftp://x' is not an http(s) URL" in found.value.format()


@pytest.mark.parametrize("name", sorted(GATEWAYS))
def test_a_series_renders_against_the_emulator_by_environment_alone(
        name: str, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    with serve(folder) as origin:  # the gateway fetches media_base_url: it is served
        dialect = DIALECTS[name]  # its first model, as short and small as it renders
        resolution = "720P" if "720P" in dialect.limits.resolutions \
            else dialect.limits.resolutions[0]
        head = MIA_HEAD.replace("duration: 2", f"duration: {max(2, dialect.limits.min_duration)}"
                                f", model: {dialect.models[0]}").replace("720P", resolution)
        head += f"provider: {{name: {name}, poll: [0.1], media_base_url: '{origin}'}}\n"
        # A target that takes no reference (Hailuo) starts from a first frame.
        shots = ONE if dialect.limits.max_references else FRAMED
        series = write_series(folder, make_media, shots, head=head)
        rendered_by_environment(name, series, emulator, monkeypatch)


def rendered_by_environment(name: str, series: Path, emulator: EmulatorServer,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIALECTS[name].key_env, KEY)
    if DIALECTS[name].secret_env:  # a key pair: the emulator checks tokens with its key
        monkeypatch.setenv(DIALECTS[name].secret_env, KEY)
    monkeypatch.setenv(base_url_env(name), emulator.gateway_url(name))
    before = emulator.stats()["submissions"]["total"]
    result = CliRunner().invoke(cli, ["render", str(series), "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert emulator.stats()["submissions"]["total"] == before + 1
    assert (series / "out" / "ep01.mp4").is_file()
    for command in ("sheet", "export"):
        shown = CliRunner().invoke(cli, [command, str(series), "--provider", name])
        assert shown.exit_code == 0, shown.output
    page = (series / "out" / "sheet.html").read_text(encoding="utf-8")
    assert "not rendered" not in page and name in page
