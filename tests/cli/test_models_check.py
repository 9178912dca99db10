"""``storyboard models check`` (issue 69.5): the declared models against the emulator's catalogues.

Each target with a catalogue and a key is asked once (a GET, its own key, its own host); a
catalogue that lists a new model of a declared family, or leaves a declared one out, is reported
(exit 1), as JSON too; the targets not asked are named with why; nothing is submitted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.emulator import EmulatorServer
from storyboard.targets.wire import catalogues
from storyboard.targets.wire.catalogues import Catalogue

KEY = "sk-catalogue-test-key"
KEYS = ("ARK_API_KEY", "MODELARK_API_KEY", "OPENAI_VIDEO_API_KEY", "ROLES_API_KEY",
        "DASHSCOPE_API_KEY", "FREEPIK_API_KEY", "ARRAYS_API_KEY", "KLING_ACCESS_KEY",
        "KLING_SECRET_KEY", "MINIMAX_API_KEY", "MINIMAXI_API_KEY")
NEW = "doubao-seedance-2-0-mini-260615"


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.1, api_key=KEY, catalogue_add=(NEW, "wan3.0-video"),
                        catalogue_drop=("doubao-seedance-2-5-260628",),
                        catalogue_prices={"wan2.7-r2v": {"720P": 0.12, "1080P": 0.15}}) as server:
        yield server


def hosts(emu: EmulatorServer, *names: str) -> list[str]:
    root = emu.base_url.split("/api/")[0]
    return [arg for name in names for arg in ("--base-url", f"{name}={root}/gw/{name}")]


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["models", "check", *args])
    assert "Traceback" not in result.output, result.output
    return result


def test_a_difference_in_the_catalogue_is_reported(
        emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARK_API_KEY", KEY)
    monkeypatch.setenv("MODELARK_API_KEY", KEY)
    result = invoke(*hosts(emu, "ark", "modelark"))
    assert result.exit_code == 1, result.output
    out = result.output
    assert "ark (third-party): 4 id(s) listed:" in out
    assert "  missing: doubao-seedance-2-5-260628 (declared, not listed)" in out
    assert f"  new: {NEW} (listed, not declared)" in out
    assert "wan3.0-video" not in out and "text-embedding" not in out  # other families: not new
    assert "modelark (third-party): 5 id(s) listed; every declared model is listed" in out
    assert "not asked: dashscope: no catalogue endpoint declared" in out
    assert "not asked: openai-video: no key (OPENAI_VIDEO_API_KEY is not set)" in out
    assert "2 catalogue(s) read, 1 differ(s) from the declarations; nothing was changed" in out
    assert KEY not in out
    assert emu.stats()["submissions"]["total"] == 0  # it only reads


def test_json_names_every_target_and_why_it_was_not_asked(
        emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_VIDEO_API_KEY", KEY)
    monkeypatch.setenv("ROLES_API_KEY", "sk-wrong")
    result = invoke("--json", *hosts(emu, "openai-video", "roles"))
    reports = {r["target"]: r for r in json.loads(result.stdout)}
    assert result.exit_code == 1  # openai-video's catalogue lists wan3.0-video, not declared there
    video = reports["openai-video"]
    assert (video["asked"], video["source"], video["missing"], video["new"]) == \
        (True, "unverified", [], ["wan3.0-video"])
    assert reports["roles"]["why_not"].endswith("answered HTTP 401")
    assert reports["kling"]["why_not"] == "no key (KLING_ACCESS_KEY is not set)"
    assert reports["minimax"]["why_not"] == "no catalogue endpoint declared"
    assert reports["ark"]["why_not"] == "no key (ARK_API_KEY is not set)"
    assert "sk-wrong" not in result.output


def test_a_catalogue_that_shows_prices_is_compared_with_the_declared_ones(
        emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(catalogues.CATALOGUES, "openai-video",
                        Catalogue("/models", "unverified", prices_key="pricing"))
    monkeypatch.setenv("OPENAI_VIDEO_API_KEY", KEY)
    result = invoke("--json", *hosts(emu, "openai-video"))
    [video] = [r for r in json.loads(result.stdout) if r["target"] == "openai-video"]
    assert video["different"] == [
        "wan2.7-r2v 720P: declared USD 0.1, the catalogue says 0.12"]


def test_without_a_host_or_a_key_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_VIDEO_API_KEY", KEY)
    result = invoke()
    assert result.exit_code == 0, result.output
    assert "not asked: openai-video: no host: give one with --base-url openai-video=URL" \
        in result.output
    assert "0 catalogue(s) read" in result.output


def test_a_bad_base_url_is_a_usage_error() -> None:
    result = invoke("--base-url", "nowhere=http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "expected TARGET=URL" in result.output


def test_the_table_without_check_is_unchanged() -> None:
    result = CliRunner().invoke(cli, ["models", "--json"])
    assert result.exit_code == 0
    assert "models" in json.loads(result.stdout)


KLING_NEW = "kling-v4-5-omni"


@pytest.fixture
def kling_emu() -> Iterator[EmulatorServer]:
    """A Kling catalogue that lists a newer Kling and no longer lists 4.0 Flash."""
    with EmulatorServer(latency=0.1, api_key=KEY, catalogue_add=(KLING_NEW,),
                        catalogue_drop=("kling-v4-flash",)) as server:
        yield server


def test_kling_s_catalogue_is_read_with_a_signed_token_and_its_difference_reported(
        kling_emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-catalogue")
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)  # the emulator checks the token's signature
    result = invoke("--json", *hosts(kling_emu, "kling"))
    assert result.exit_code == 1, result.output
    [kling] = [r for r in json.loads(result.stdout) if r["target"] == "kling"]
    assert (kling["asked"], kling["source"], kling["missing"], kling["new"]) == \
        (True, "unverified", ["kling-v4-flash"], [KLING_NEW])
    assert KEY not in result.output and "ak-catalogue" not in result.output
    assert kling_emu.stats()["submissions"]["total"] == 0


def test_kling_s_catalogue_needs_both_halves_of_its_key_and_a_right_signature(
        kling_emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-catalogue")
    result = invoke("--json", *hosts(kling_emu, "kling"))
    [kling] = [r for r in json.loads(result.stdout) if r["target"] == "kling"]
    assert kling["why_not"] == "no key (KLING_SECRET_KEY is not set)"
    monkeypatch.setenv("KLING_SECRET_KEY", "not-the-secret")
    result = invoke("--json", *hosts(kling_emu, "kling"))
    [kling] = [r for r in json.loads(result.stdout) if r["target"] == "kling"]
    assert kling["why_not"].endswith("answered HTTP 401")
