"""A season delivered through the command line on ``local``: three short 9:16 episodes rendered
into ``out/season/`` (1080x1920, covers, the manifest's rows and bytes, the loudness target),
``render SERIES 1-3`` choosing a range, ``status --season`` and its figures."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from storyboard.media import ffmpeg, samples
from storyboard.media.probes.measure import measure
from tests.fixtures.cli import invoke

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
boards: {model: wan2.7-image}
characters:
  ada: {image: media/ada.png}
music: {file: media/bed.wav, volume: -6}
delivery: {preset: vertical, burn_subtitles: true}
episodes:
  - id: ep01
    title: The Call
    shots:
      - id: a
        scenes: [{at: 0-2s, action: "@ada answers the phone", say: {ada: "Who is this?"}}]
  - id: ep02
    title: The Door
    hook: "Someone is at the door."
    shots:
      - {id: a, prompt: "@ada opens the door"}
  - id: ep03
    title: The Car
    shots:
      - id: a
        scenes: [{at: 0-2s, action: "@ada drives off", say: {ada: "Not tonight."}}]
"""


def write(root: Path, text: str = SERIES) -> Path:
    samples.image(root / "media" / "ada.png", 320, 320)
    samples.voice(root / "media" / "bed.wav", seconds=3.0)
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The series rendered once; each test works on its own copy."""
    root = write(tmp_path_factory.mktemp("season") / "night")
    result = invoke("render", root, "--yes")
    assert result.exit_code == 0, result.output
    assert "season: " in result.stderr and "(3 episode(s), 3 cover(s))" in result.stderr
    return root


def copy(rendered: Path, tmp_path: Path, *, keep_out: bool = True) -> Path:
    root = Path(shutil.copytree(rendered, tmp_path / "night", symlinks=True))
    if not keep_out:
        shutil.rmtree(root / "out")
    return root


def season_rows(root: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        (root / "out" / "season" / "manifest.json").read_text("utf-8"))["episodes"]
    return rows


def season_bytes(root: Path) -> dict[str, bytes]:
    folder = root / "out" / "season"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.suffix in (".json", ".csv", ".jpg")}


def test_every_episode_is_delivered_at_1080x1920_with_its_cover_and_row(rendered: Path) -> None:
    folder = rendered / "out" / "season"
    rows = season_rows(rendered)
    assert [(r["episode"], r["id"], r["title"]) for r in rows] == [
        (1, "ep01", "The Call"), (2, "ep02", "The Door"), (3, "ep03", "The Car")]
    assert [r["hook"] for r in rows] == ["Who is this?", "Someone is at the door.",
                                        "Not tonight."]  # the last line, else the hook:
    for row in rows:
        video = ffmpeg.probe(folder / row["file"])
        assert (video.streams[0].width, video.streams[0].height) == (1080, 1920)
        # a 2 s "Episode N" card, then the 2 s shot
        assert row["seconds"] == round(video.duration or 0.0, 3) == pytest.approx(4.0, abs=0.05)
        assert ffmpeg.probe(folder / row["cover"]).streams[0].width == 1080
        assert row["cover_from"] == "frame at 3.000 s"  # the middle of the first shot
        assert (row["cost"], row["currency"], row["subtitles"]) == (0.0, "USD",
                                                                    f"{row['id']}.srt")
    with (folder / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [(t["episode"], t["file"], t["cover"], t["hook"]) for t in table] == [
        (str(r["episode"]), r["file"], r["cover"], r["hook"]) for r in rows]
    loudness = measure(folder / "ep01.mp4").loudness
    assert loudness is not None and abs(loudness - -14.0) <= 1.0


def test_the_season_is_the_same_bytes_every_time(rendered: Path, tmp_path: Path) -> None:
    root = copy(rendered, tmp_path)
    before = season_bytes(root)
    assert set(before) == {"manifest.json", "manifest.csv", "ep01.jpg", "ep02.jpg", "ep03.jpg"}
    assert invoke("render", root, "--yes").exit_code == 0
    assert season_bytes(root) == before
    shutil.rmtree(root / "out" / "season")
    assert invoke("render", root, "--yes").exit_code == 0
    assert season_bytes(root) == before


def test_a_title_or_hook_that_starts_like_a_formula_is_text_in_the_csv(rendered: Path,
                                                                       tmp_path: Path) -> None:
    root = copy(rendered, tmp_path)
    series = root / "storyboard.yaml"
    series.write_text(series.read_text("utf-8").replace(
        "title: The Call", 'title: "=HYPERLINK(\\"https://example.com\\",\\"Call\\")"').replace(
        'hook: "Someone is at the door."', 'hook: "@SUM(1+1)*cmd|\' /C calc\'!A0"').replace(
        "title: The Car", 'title: "-2+3"'), "utf-8")
    assert invoke("render", root, "--yes").exit_code == 0
    titles = ['=HYPERLINK("https://example.com","Call")', "The Door", "-2+3"]
    hooks = ["Who is this?", "@SUM(1+1)*cmd|' /C calc'!A0", "Not tonight."]
    rows = season_rows(root)
    assert ([r["title"] for r in rows], [r["hook"] for r in rows]) == (titles, hooks)  # exact
    with (root / "out" / "season" / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [t["title"] for t in table] == ["'" + titles[0], "The Door", "'-2+3"]
    assert [t["hook"] for t in table] == ["Who is this?", "'" + hooks[1], "Not tonight."]
    assert [t["seconds"] for t in table] == [str(r["seconds"]).removesuffix(".0") for r in rows]


def test_an_approved_board_is_its_episode_cover_and_status_counts_it(rendered: Path,
                                                                     tmp_path: Path) -> None:
    root = copy(rendered, tmp_path)
    assert invoke("approve", root, "boards/ep01").exit_code == 0
    assert invoke("render", root, "--yes").exit_code == 0
    assert [r["cover_from"] for r in season_rows(root)] == [
        "board boards/ep01/a", "frame at 3.000 s", "frame at 3.000 s"]
    result = invoke("status", root, "--season", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["episodes"]
    assert [(f["episode"], f["shots"], f["boards_approved"], f["boards"], f["videos_done"],
             f["waiting_on_boards"], f["spent"], f["to_go"]) for f in figures] == [
        (1, 1, 1, 1, 1, 0, 0.0, 0.0), (2, 1, 0, 1, 1, 0, 0.0, 0.0), (3, 1, 0, 1, 1, 0, 0.0, 0.0)]
    assert [f["minutes"] for f in figures] == [0.03, 0.03, 0.03]
    table = invoke("status", root, "--season")
    assert table.exit_code == 0 and "1/3" in table.stdout and "The Door" in table.stdout


def test_episodes_renders_only_that_range(rendered: Path, tmp_path: Path) -> None:
    root = copy(rendered, tmp_path, keep_out=False)
    result = invoke("render", root, "--yes", "2-3", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(e["id"] for e in report["episodes"]) == ["ep02", "ep03"]
    assert sorted(p.name for p in (root / "out").glob("*.mp4")) == ["ep02.mp4", "ep03.mp4"]
    assert [r["episode"] for r in season_rows(root)] == [2, 3]
    assert "season: ep01 left out (not stitched yet)" in result.stderr


@pytest.mark.parametrize(("given", "said"), [
    ("0-2", "'0-2' is not a range"),
    ("3-1", "'3-1' is not a range"),
    ("2-9", "'2-9' is outside the series"),
    ("4-", "'4-' is outside the series"),
])
@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_a_bad_episode_range_is_a_usage_error(rendered: Path, given: str, said: str,
                                              json_flag: tuple[str, ...]) -> None:
    result = invoke("render", rendered, "--yes", given, *json_flag)
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "this series has episodes 1 to 3" in result.stderr
    assert '"3-"' in result.stderr and "WHAT" in result.stderr  # the grammar it takes


# Issue 83, item 11: the flag reads the one grammar of docs/season.md, "A-" ranges too

@pytest.mark.parametrize(("given", "chosen"), [("2-", ["ep02", "ep03"]), ("1,3-", ["ep01", "ep03"]),
                                               ("3-", ["ep03"])])
def test_episodes_takes_an_open_ended_range(rendered: Path, tmp_path: Path, given: str,
                                            chosen: list[str]) -> None:
    root = copy(rendered, tmp_path, keep_out=False)
    planned = invoke("plan", root, "--season", "--episodes", given, "--json")
    assert planned.exit_code == 0, planned.output
    assert [e["id"] for e in json.loads(planned.stdout)["episodes"]] == chosen
    result = invoke("render", root, "--yes", given, "--json")
    assert result.exit_code == 0, result.output
    assert sorted(e["id"] for e in json.loads(result.stdout)["episodes"]) == chosen
    assert sorted(p.stem for p in (root / "out").glob("*.mp4")) == chosen


def test_status_season_prices_what_is_to_go_on_a_paid_provider(tmp_path: Path) -> None:
    root = write(tmp_path / "paid", SERIES.replace("boards: {", "provider: {name: dashscope}\n"
                                                   "boards: {"))
    planned = invoke("plan", root, "--json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    result = invoke("status", root, "--season", "--json")
    assert result.exit_code == 0, result.output
    figures = {f["id"]: f for f in json.loads(result.stdout)["episodes"]}
    for episode in ("ep01", "ep02", "ep03"):
        mine = [s for s in plan["shots"] if f"/{episode}/" in s["key"]]
        owed = sum(s["cost"] + s["waiting_cost"] for s in mine)
        assert owed > 0 and figures[episode]["to_go"] == pytest.approx(owed)
        assert (figures[episode]["waiting_on_boards"], figures[episode]["videos_done"],
                figures[episode]["boards_approved"]) == (1, 0, 0)


def test_a_draft_stays_a_proxy_and_delivers_no_season(rendered: Path, tmp_path: Path) -> None:
    root = copy(rendered, tmp_path, keep_out=False)
    result = invoke("render", root, "--yes", "--draft", "1")
    assert result.exit_code == 0, result.output
    video = ffmpeg.probe(root / "out" / "draft" / "ep01.mp4").streams[0]
    assert (video.width, video.height) == (180, 320)  # its shots' proxy size (a card's is 270x480)
    assert not (root / "out" / "season").exists() and "season:" not in result.stderr
