"""`storyboard config`: every effective setting and where it came from, in the documented order of
precedence (flag, environment, series file, user settings, default); a key only as set or not set.

The command runs in-process with click's CliRunner, on a copy of the example series.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.media import ffbinary

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
SECRET = "sk-do-not-print-me-1234"
SERIES_BLOCK = """provider: {name: dashscope, region: cn, concurrency: 2, max_wait: 600}
store: team-store
output:
  dir: episodes-here
"""


@pytest.fixture
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example with a provider block, a store and an output folder; no variable
    or user settings file of the user's own leaks in."""
    folder = shutil.copytree(EXAMPLE, tmp_path / "coffee-shop",
                             ignore=shutil.ignore_patterns(".storyboard"))
    yaml_file = folder / "storyboard.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("output:\n", SERIES_BLOCK))
    for name in ("STORYBOARD_STORE", "STORYBOARD_LEDGER", "STORYBOARD_FFMPEG", "DASHSCOPE_API_KEY",
                 "DASHSCOPE_HTTP_BASE_URL", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return folder


def settings(*args: str | Path) -> dict[str, dict[str, str]]:
    result = CliRunner().invoke(cli, ["config", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    # the JSON is stdout; a warning (a block another --provider does not use) goes to stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_each_setting_says_where_it_came_from(series: Path) -> None:
    rows = settings(series)
    assert rows["provider"] == {"name": "provider", "value": "dashscope",
                                "source": "series file", "where": "provider.name"}
    assert (rows["region"]["value"], rows["region"]["source"]) == ("cn", "series file")
    assert rows["base_url"]["source"] == "default" and "dashscope.aliyuncs" in rows["base_url"][
        "value"]
    assert (rows["concurrency"]["value"], rows["concurrency"]["source"]) == ("2", "series file")
    assert (rows["max_wait"]["value"], rows["max_wait"]["source"]) == ("600", "series file")
    assert (rows["submit_rate"]["value"], rows["submit_rate"]["source"]) == ("2.0", "default")
    assert rows["store"]["value"] == str(series / "team-store")
    assert rows["store"]["source"] == "series file"
    assert rows["output_dir"] == {"name": "output_dir", "value": str(series / "episodes-here"),
                                  "source": "series file", "where": "output.dir"}
    assert rows["ledger"]["source"] == "environment"  # the tests' own STORYBOARD_STATE_DIR
    assert rows["ffmpeg"]["source"] == "default"
    assert rows["webhook_listen"]["value"] == "(off)"


def test_a_flag_beats_the_environment_which_beats_the_series(
        series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_STORE", str(tmp_path / "env-store"))
    rows = settings(series)
    assert rows["store"] == {"name": "store", "value": str(tmp_path / "env-store"),
                             "source": "environment", "where": "STORYBOARD_STORE"}
    rows = settings(series, "--offline", "--concurrency", "7", "--provider", "freepik",
                    "-o", tmp_path / "elsewhere", "--webhook-listen", "127.0.0.1:9000")
    assert (rows["store"]["value"], rows["store"]["source"]) == ("(off)", "flag")
    assert (rows["concurrency"]["value"], rows["concurrency"]["where"]) == ("7", "--concurrency")
    assert rows["provider"]["source"] == "flag" and "region" not in rows
    assert rows["api_key"]["value"] == "FREEPIK_API_KEY (not set)"
    assert rows["output_dir"]["value"] == str(tmp_path / "elsewhere")
    assert rows["webhook_url"]["value"] == "http://127.0.0.1:9000/"


def test_the_user_settings_file_chooses_ffmpeg_unless_the_environment_does(
        series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = ffbinary.bundled_path()
    assert bundled is not None
    (tmp_path / "config" / "storyboard").mkdir(parents=True)
    (tmp_path / "config" / "storyboard" / "settings.yaml").write_text(f"ffmpeg: {bundled}\n")
    rows = settings(series)
    assert rows["ffmpeg"]["value"] == bundled and rows["ffmpeg"]["source"] == "user settings"
    assert rows["ffmpeg"]["where"].endswith("config/storyboard/settings.yaml")
    monkeypatch.setenv("STORYBOARD_FFMPEG", bundled)
    assert settings(series)["ffmpeg"]["source"] == "environment"


def test_a_key_is_named_never_shown(series: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", SECRET)
    result = CliRunner().invoke(cli, ["config", str(series)])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "DASHSCOPE_API_KEY (set)" in result.output
    assert "[series file: provider.name]" in result.output


def test_a_missing_series_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["config", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "no such file or folder" in result.output


def test_account_limits_are_shown_with_their_source(series: Path) -> None:
    """The account's limits a team keeps: set ones from the series file, the rest defaults
    (DashScope's documented query rate; no in-flight or submit limit unless set)."""
    yaml_file = series / "storyboard.yaml"
    yaml_file.write_text(yaml_file.read_text().replace(
        "max_wait: 600}", "max_wait: 600, account_limits: {in_flight: 3, "
                          "models: {wan3.0-video: {in_flight: 2}}}}"))
    rows = settings(series)
    assert rows["account_in_flight"] == {"name": "account_in_flight", "value": "3",
                                         "source": "series file",
                                         "where": "provider.account_limits.in_flight"}
    assert (rows["account_submit_rate"]["value"], rows["account_submit_rate"]["source"]) == (
        "(none)", "default")
    assert rows["account_query_rate"] == {"name": "account_query_rate", "value": "20 a second",
                                          "source": "default",
                                          "where": "DashScope's documented limit"}
    assert rows["account_in_flight[wan3.0-video]"]["value"] == "2"
    assert "account_in_flight" not in settings(series, "--provider", "local")


def test_a_series_without_output_dir_is_not_named_as_its_source(tmp_path: Path) -> None:
    """``config`` names a source only when it set the value: a series with no ``output.dir``
    gets the default folder, said to be the default."""
    assert CliRunner().invoke(cli, ["init", str(tmp_path / "plain")]).exit_code == 0
    row = settings(tmp_path / "plain")["output_dir"]
    assert row == {"name": "output_dir", "value": str(tmp_path / "plain" / "out"),
                   "source": "default", "where": "out/ inside the series folder"}
