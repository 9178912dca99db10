"""`storyboard init`: both templates write a series that checks clean and renders locally at once.

Renders are drafts (small, 12 fps) on the local provider; the command runs in-process with click's
CliRunner, as a user would run it.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

import storyboard
from storyboard.cli import cli
from storyboard.cli.writing.init import init
from storyboard.media import ffmpeg
from storyboard.scaffold import init as scaffold


def run(command: object, *args: str | Path) -> Result:
    result = CliRunner().invoke(command, [str(a) for a in args])  # type: ignore[arg-type]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("template", ["series", "ad"])
def test_a_template_checks_clean_and_renders(tmp_path: Path, template: str) -> None:
    folder = tmp_path / "my-show"
    result = run(init, folder, "--template", template)
    assert result.exit_code == 0, result.output
    voices = 1 if template == "series" else 0
    assert (f"wrote {folder}: 1 episode(s), 2 shot(s), 1 picture(s) and {voices} voice(s) "
            "described to generate") in result.output
    assert not (folder / "media").exists()  # no picture drawn: the cast is described in words
    assert storyboard.check(folder) == []
    rendered = run(cli, "render", folder, "--draft", "--yes", "--quiet", "-o", tmp_path / "out")
    assert rendered.exit_code == 0, rendered.output
    episodes = sorted((tmp_path / "out" / "draft").rglob("*.mp4"))
    assert len(episodes) == (1 if template == "series" else 4)  # the ad: 2 languages x 2 ratios
    assert all(ffmpeg.probe(e).duration for e in episodes)


def test_the_series_template_says_what_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "night_shift"
    assert run(init, folder).exit_code == 0
    main = yaml.safe_load((folder / "storyboard.yaml").read_text(encoding="utf-8"))
    assert main["title"] == "Night Shift"
    assert main["characters"] == {"ada": {
        "image": {"generate": "an inventor in her forties, curly grey hair, brass goggles on her "
                              "forehead, a leather apron over a linen shirt"},
        "voice": "ada-voice", "description": "an inventor in a leather apron"}}
    assert main["voices"] == {"ada-voice": {
        "design": "a warm, curious woman in her forties, clear and unhurried",
        "sample": "Let's build something."}}
    assert main["style"] == "clean storybook illustration, soft daylight"
    [episode] = [yaml.safe_load(p.read_text(encoding="utf-8"))
                 for p in (folder / "episodes").glob("*.yaml")]
    assert [s["id"] for s in episode["shots"]] == ["arrival", "sketch"]
    text = (folder / "storyboard.yaml").read_text(encoding="utf-8")
    # pages a wheel's user can read (`storyboard docs PAGE`), not files only a clone has
    assert "`storyboard docs starting`" in text and "`storyboard docs language`" in text
    assert "docs/" not in text and "://" not in text
    assert (folder / ".gitignore").read_text(encoding="utf-8").splitlines()[1:] == [
        ".storyboard/", "out/"]


@pytest.mark.parametrize("name", ["storyboard.yaml", "episodes/01-pilot.yaml"])
def test_the_schema_line_names_the_series_own_copy_by_a_relative_path(tmp_path: Path,
                                                                       name: str) -> None:
    """Never this machine's absolute path (a shared series would carry it): the series holds a
    copy of the shipped schemas, and the line names it relatively, so the series moves whole."""
    run(init, tmp_path / "s")
    first = (tmp_path / "s" / name).read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix) and "://" not in first
    target = Path(first.removeprefix(prefix))
    assert not target.is_absolute() and str(tmp_path) not in first
    assert target.as_posix() == ("schemas/storyboard.schema.json" if name == "storyboard.yaml"
                                 else "../schemas/episode.schema.json")
    moved = shutil.move(tmp_path / "s", tmp_path / "elsewhere")
    schema = Path(moved, name).parent / target
    shipped = scaffold.schema_dir() / schema.name
    assert schema.read_bytes() == shipped.read_bytes()


def test_the_episode_schema_copy_finds_the_series_schema_beside_it(tmp_path: Path) -> None:
    run(init, tmp_path / "s")
    episode = json.loads((tmp_path / "s" / "schemas" / "episode.schema.json").read_text("utf-8"))
    reference = episode["$ref"].partition("#")[0]
    assert (tmp_path / "s" / "schemas" / reference).is_file()


def test_the_ad_template_describes_its_product_as_a_prop(tmp_path: Path) -> None:
    assert run(init, tmp_path / "ad", "--template", "ad").exit_code == 0
    main = yaml.safe_load((tmp_path / "ad" / "storyboard.yaml").read_text(encoding="utf-8"))
    assert main["characters"]["bottle"]["image"] == {
        "generate": "a brushed steel water bottle with a black screw cap", "kind": "prop"}
    assert "voices" not in main


@pytest.mark.parametrize("what", ["a file", "a folder"])
def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, what: str) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    if what == "a folder":
        (folder / "notes.txt").unlink()
        (folder / "sub").mkdir()
    result = run(init, folder)
    assert result.exit_code == 1
    assert f"error: {folder} is not empty" in result.output
    assert sorted(p.name for p in folder.iterdir()) == (["notes.txt"] if what == "a file"
                                                        else ["sub"])
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no staging folder left behind


def test_init_writes_into_an_empty_folder_and_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert run(init, tmp_path / "empty").exit_code == 0
    assert (tmp_path / "empty" / "storyboard.yaml").is_file()
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    result = run(init, tmp_path / "plain")
    assert result.exit_code == 1 and "is not a folder" in result.output


def test_template_and_from_together_is_a_usage_error(tmp_path: Path) -> None:
    result = run(init, tmp_path / "s", "--template", "ad", "--from", tmp_path / "x.fountain")
    assert result.exit_code == 2 and "not both" in result.output
    assert not (tmp_path / "s").exists()


def test_an_unknown_template_is_a_usage_error(tmp_path: Path) -> None:
    result = run(init, tmp_path / "s", "--template", "musical")
    assert result.exit_code == 2 and "series" in result.output and "ad" in result.output


def test_a_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills up after the first files: the half-built series is removed."""
    fill = scaffold._fill

    def full_disk(staging: Path, blueprint: scaffold.Blueprint) -> None:
        fill(staging, blueprint)
        assert (staging / "storyboard.yaml").is_file()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(scaffold, "_fill", full_disk)
    result = run(init, tmp_path / "s")
    assert result.exit_code == 1
    assert f"error: cannot write {tmp_path / 's'}: No space left on device" in result.output
    assert list(tmp_path.iterdir()) == []
