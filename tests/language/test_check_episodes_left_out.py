"""An episode file in the series' ``episodes/`` folder that no ``episodes:`` entry includes: a
warning at the file, saying what to add; a series that includes none of them is not "ok"
(issue 95, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from storyboard.cli.main import cli as group
from tests.fixtures.example import copy_example

SERIES_GLOB = "episodes:\n  - episodes/*.yaml\n"


def command(*args: str) -> Result:
    return CliRunner().invoke(group, [*args])


def warned(series: Path) -> list[dict[str, object]]:
    done = command("check", str(series), "--json")
    assert done.exit_code == 0, done.output
    return [d for d in json.loads(done.output) if d["code"] == "series-episode-left-out"]


def test_a_file_no_entry_includes_is_warned_at_the_file_with_the_entry_to_add(
        tmp_path: Path) -> None:
    series = copy_example(tmp_path / "series")
    path = series / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        SERIES_GLOB, "episodes:\n  - episodes/01-first-meeting.yaml\n"), encoding="utf-8")
    (series / "episodes" / "03-notes.yaml.proposed").write_text("shots: []\n", encoding="utf-8")
    found = warned(series)
    assert [(Path(str(d["file"])).name, d["line"], d["column"], d["severity"]) for d in found] \
        == [("02-the-regular.yaml", 1, 1, "warning")]
    assert "add `- episodes/02-the-regular.yaml` under its `episodes:`" in str(found[0]["message"])
    checked = command("check", str(series))
    assert checked.exit_code == 0 and "ok: 1 episode(s)" in checked.output


def test_a_series_with_no_episodes_list_is_not_ok(tmp_path: Path) -> None:
    series = copy_example(tmp_path / "series")
    path = series / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(SERIES_GLOB, ""), encoding="utf-8")
    found = warned(series)
    assert sorted(Path(str(d["file"])).name for d in found) == [
        "01-first-meeting.yaml", "02-the-regular.yaml"]
    assert all("it has no `episodes:` list: add `episodes: [episodes/*.yaml]` to it"
               in str(d["message"]) for d in found)
    checked = command("check", str(series))
    assert checked.exit_code == 0 and "ok:" not in checked.output, checked.output
    assert "warning: 0 episode(s): the series includes none of the 2 episode file(s) in " \
        "episodes/" in checked.output
    assert "01-first-meeting.yaml:1:1: warning: no `episodes:` entry of storyboard.yaml " \
        "includes this episode file" in checked.output


def test_a_series_that_includes_every_file_has_no_such_warning(tmp_path: Path) -> None:
    series = copy_example(tmp_path / "series")
    assert warned(series) == []
    assert "ok: 2 episode(s)" in command("check", str(series)).output
