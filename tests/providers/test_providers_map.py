"""A series that carries settings for several providers (issue 58.4): ``providers:`` holds one
block per provider name and the settings that hold no credential, shared; ``config --provider``
says where each setting came from; a block's base_url and key_env lead only its own provider."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from tests.fixtures.cli import invoke as run
from tests.fixtures.example import copy_example
from tests.fixtures.media_host import serve
from tests.fixtures.resellers import KEY, RESELLERS, quick_render

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
FIRST, SECOND = RESELLERS[0], RESELLERS[1]


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.2, render=quick_render, retry_after=0.05, api_key=KEY,
                        seed=7) as server:
        yield server


def series_with(tmp_path: Path, providers: str) -> Path:
    series = copy_example(tmp_path / "coffee-shop", shortest=True,  # the shots' length: not tested
                          ignore=shutil.ignore_patterns(".storyboard", "storyboard.lock"))
    main = series / "storyboard.yaml"
    text = main.read_text("utf-8").replace("loudness: -14", "loudness: null")
    main.write_text(text.replace("output:\n", providers + "output:\n", 1), encoding="utf-8")
    return series


def config_rows(series: Path, provider: str) -> dict[str, str]:
    result = run("config", series, "--provider", provider)
    assert result.exit_code == 0, result.output
    return {line.split()[0]: line for line in result.output.splitlines() if line.strip()}


def test_config_says_where_each_setting_came_from(tmp_path: Path) -> None:
    series = series_with(tmp_path, (
        "providers:\n"
        "  media_base_url: https://media.example.com/coffee-shop/\n"
        "  concurrency: 3\n"
        f"  {FIRST}: {{base_url: 'https://one.example.com/v1', key_env: ONE_KEY, "
        "concurrency: 2}\n"))
    rows = config_rows(series, FIRST)
    assert rows["base_url"].endswith(f"[series file: providers.{FIRST}.base_url]")
    assert rows["media_base_url"].endswith("[series file: providers.media_base_url]")
    assert "ONE_KEY (not set)" in rows["api_key"]
    assert rows["api_key"].endswith(f"[series file: providers.{FIRST}.key_env]")
    assert rows["concurrency"].split()[1] == "2"  # its own block over the shared one
    other = config_rows(series, SECOND)  # FIRST's base_url and key lead nowhere else
    assert "one.example.com" not in other["base_url"] and other["base_url"].endswith("[default]")
    assert f"{DIALECTS[SECOND].key_env} (not set)" in other["api_key"]
    assert other["media_base_url"].endswith("[series file: providers.media_base_url]")
    assert other["concurrency"].split()[1] == "3"


def test_the_provider_block_naming_a_provider_wins_over_its_map_block(tmp_path: Path) -> None:
    series = series_with(tmp_path, (
        f"provider: {{name: {FIRST}, base_url: 'https://block.example.com/v1'}}\n"
        f"providers:\n  {FIRST}: {{base_url: 'https://map.example.com/v1', poll: [1]}}\n"))
    rows = config_rows(series, FIRST)
    assert "block.example.com" in rows["base_url"] and rows["base_url"].endswith(
        "[series file: provider.base_url]")
    assert rows["poll"].endswith(f"[series file: providers.{FIRST}.poll]")
    other = config_rows(series, SECOND)  # the block names FIRST: nothing of it reaches SECOND
    assert "example.com" not in other["base_url"] and other["poll"].endswith("[default]")


@pytest.mark.parametrize(("block", "expected"), [
    ("providers: {base_url: 'https://x.example.com'}", "'base_url' is never shared between providers"),
    ("providers: {key_env: MY_KEY}", "'key_env' is never shared between providers"),
    ("providers: {dashscop: {region: cn}}", "(did you mean 'dashscope'?)"),
    (f"providers: {{{FIRST}: {{name: kling}}}}", f"this block is {FIRST}'s"),
])
def test_a_credential_is_never_shared_and_a_block_is_its_providers(
        tmp_path: Path, block: str, expected: str) -> None:
    series = series_with(tmp_path, block + "\n")
    result = run("check", series)
    assert result.exit_code == 1 and expected in result.output, result.output
    assert "storyboard.yaml:" in result.output


@pytest.mark.parametrize("key", ["key_env", "base_url", "headers", "workspace"])
def test_a_shared_credential_says_why_and_names_the_block_it_belongs_in(tmp_path: Path, key: str) -> None:
    """Not a typo: no "did you mean 'media_base_url'" (another setting); the docs' rule, and the
    block to move it to (the one provider block the map has)."""
    series = series_with(tmp_path, f"providers:\n  {key}: X\n  {FIRST}: {{concurrency: 2}}\n")
    result = run("check", series)
    assert result.exit_code == 1
    assert (f"error: '{key}' is never shared between providers: credentials are not shared, and what "
            "leads a key somewhere (base_url, headers, key_env, workspace) reaches only the provider "
            f"whose block holds it; move it into that block: providers: {{{FIRST}: {{{key}: ...}}}}. "
            "Shared by every provider: media_base_url, ") in result.output, result.output
    assert "did you mean" not in result.output and "unknown key" not in result.output


def test_one_series_renders_on_two_gateways_without_an_edit(
        tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    with serve(tmp_path) as host:
        series = series_with(tmp_path, (
            f"providers:\n  media_base_url: '{host}/coffee-shop'\n  poll: [0.2]\n"
            f"  {FIRST}: {{base_url: '{emulator.gateway_url(FIRST)}'}}\n"
            f"  {SECOND}: {{base_url: '{emulator.gateway_url(SECOND)}'}}\n"))
        before = (series / "storyboard.yaml").read_bytes()
        for name in (FIRST, SECOND):
            monkeypatch.setenv(DIALECTS[name].key_env, KEY)
            done = run("render", series, "--provider", name, "--yes", "--quiet", "-o",
                       tmp_path / name)
            assert done.exit_code == 0, done.output
            assert (tmp_path / name / "ep01.mp4").is_file()
        assert emulator.stats()["submissions"]["total"] == 8  # 4 shots on each gateway
        assert (series / "storyboard.yaml").read_bytes() == before
