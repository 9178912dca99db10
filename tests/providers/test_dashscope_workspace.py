"""DashScope workspace hosts: ``provider.workspace`` with a region builds the base URL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.errors import ProblemsFound, ProviderError
from storyboard.providers.dashscope.provider import BASE_URL_ENV, DashScopeProvider, DashScopeSettings
from storyboard.providers.dashscope.wire import WORKSPACE_REGIONS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"


@pytest.mark.parametrize(("region", "host"), [
    ("intl", "ap-southeast-1"), ("cn", "cn-beijing"), ("us", "us-east-1"), ("hk", "cn-hongkong")])
def test_workspace_and_region_make_the_host(region: str, host: str) -> None:
    settings = DashScopeSettings.from_mapping({"region": region, "workspace": "ws-Ab12"})
    assert settings.resolved_base_url({}) == f"https://ws-Ab12.{host}.maas.aliyuncs.com/api/v1"
    assert DashScopeProvider(settings).base_url.endswith(".maas.aliyuncs.com/api/v1")


def test_workspace_defaults_to_intl_and_beats_the_variable() -> None:
    settings = DashScopeSettings.from_mapping({"workspace": "ws1"})
    env = {BASE_URL_ENV: "https://elsewhere.test/api/v1"}
    assert settings.resolved_base_url(env) == "https://ws1.ap-southeast-1.maas.aliyuncs.com/api/v1"


def test_base_url_beats_workspace_and_region() -> None:
    settings = DashScopeSettings.from_mapping({"region": "us", "workspace": "ws1",
                                               "base_url": "http://127.0.0.1:9/api/v1"})
    assert settings.resolved_base_url({}) == "http://127.0.0.1:9/api/v1"


@pytest.mark.parametrize("region", ["us", "hk"])
def test_workspace_only_regions_need_a_workspace(region: str) -> None:
    with pytest.raises(ProblemsFound) as info:
        DashScopeSettings.from_mapping({"region": region})
    assert "provider.region:" in info.value.format()
    assert "provider.workspace" in info.value.format()
    with pytest.raises(ProviderError, match="workspace"):
        DashScopeSettings(region=region)
    assert DashScopeSettings.from_mapping({"region": region, "base_url": "https://x.test"})


@pytest.mark.parametrize("region", ["us", "hk"])
def test_workspace_only_regions_bill_in_usd(region: str) -> None:
    settings = DashScopeSettings(region=region, workspace="ws1")
    assert settings.price_table().currency == "USD"
    assert settings.price_table() == DashScopeSettings().price_table()
    mapped = DashScopeSettings.from_mapping({"region": region, "workspace": "ws1",
                                             "prices": {"720P": 0.2}})
    assert mapped.price_table().currency == "USD"


@pytest.mark.parametrize("bad", ["ws_1", "ws.1", "-ws", "ws-", "", "a" * 64, 12, "ws 1",
                                 "ws1.evil.test/x#"])
def test_a_bad_workspace_is_an_error_naming_the_setting(bad: object) -> None:
    with pytest.raises(ProblemsFound) as info:
        DashScopeSettings.from_mapping({"workspace": bad})
    assert "provider.workspace:" in info.value.format()
    with pytest.raises(ProviderError, match=r"provider\.workspace"):
        DashScopeSettings(workspace=bad)  # type: ignore[arg-type]


def test_every_problem_at_once_with_region_and_workspace() -> None:
    with pytest.raises(ProblemsFound) as info:
        DashScopeSettings.from_mapping({"region": "mars", "workspace": "no_good"})
    assert len(info.value.diagnostics) == 2
    assert set(WORKSPACE_REGIONS) == {"intl", "cn", "us", "hk"}


def test_config_shows_the_workspace_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = shutil.copytree(EXAMPLE, tmp_path / "s", ignore=shutil.ignore_patterns(".storyboard"))
    yaml_file = folder / "storyboard.yaml"
    block = "provider: {name: dashscope, region: hk, workspace: ws-9}\noutput:\n"
    yaml_file.write_text(yaml_file.read_text().replace("output:\n", block))
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    result = CliRunner().invoke(cli, ["config", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["base_url"]["value"] == "https://ws-9.cn-hongkong.maas.aliyuncs.com/api/v1"
    assert rows["base_url"]["where"] == "provider.workspace"
