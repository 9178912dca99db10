"""`storyboard render` end to end with the local provider, through the real command line.

Each test writes a tiny series (2 s shots at 720P, media made by ffmpeg test sources), runs the CLI
in-process with click's CliRunner and checks what a user would look at: exit codes, the episode
files (probed with ffmpeg), the subtitles, the plan, and the task journal. Most renders use
``--draft``; one module-scoped render at full size is shared by the tests that only read it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from storyboard.media import ffmpeg
from tests.fixtures.cli import invoke
from tests.fixtures.compiler import write_series

MakeMedia = Callable[..., Path]
FRAME = 1 / 30  # one frame at the full-size frame rate
DRAFT_FRAME = 1 / 12

# A short poll: the local provider finishes at submit, so the first poll need not wait 2 s.
HEAD = """\
storyboard: 1
title: Tiny
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {poll: [0.05]}
voices:
  mia-voice: {audio: media/mia.wav}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
  sam: {video: media/sam.mp4}
  guitar: {image: media/guitar.png}
"""

# Quotes, a colon, percent signs (drawtext expands %{...}), braces and a backslash.
TRICKY = 'It\'s "50%": a\\b, 100%% {x} %{pts} done'
TRICKY_YAML = "'" + TRICKY.replace("'", "''") + "'"

TWO_EPISODES = f"""\
- id: ep01
  title_card: {{text: "Tiny", duration: 1}}
  shots:
    - id: hello
      prompt: "@sam waves at @mia"
    - id: wave
      transition: {{type: crossfade, duration: 0.5}}
      scenes:
        - at: 0-1s
          action: "@mia looks at @sam"
        - at: 1-2s
          action: "@mia waves back"
          say: {{mia: {TRICKY_YAML}}}
- id: ep02
  shots:
    - id: play
      prompt: "@sam plays @guitar"
    - id: listen
      first_frame: {{from: play}}
      prompt: "@mia listens to @sam"
"""
# ep01: title card 1 s + hello 2 s + wave 2 s - crossfade 0.5 s; the line starts 1 s into wave.
EP01_SECONDS = 1 + 2 + 2 - 0.5
EP02_SECONDS = 2 + 2
CUE_START = 1 + (2 - 0.5) + 1
CUE_END = 1 + (2 - 0.5) + 2

ONE_SHOT_EACH = """\
- id: one
  shots:
    - {id: a, prompt: "@mia waves"}
- id: two
  shots:
    - {id: b, prompt: "@sam plays @guitar"}
"""


# --- helpers -------------------------------------------------------------------------------------


def ok(*args: str | Path) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, f"{args} -> {result.exit_code}\n{result.output}"
    return result


def render_json(*args: str | Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(ok("render", *args, "--json").stdout)
    return report


def plan_json(*args: str | Path) -> dict[str, Any]:
    the_plan: dict[str, Any] = json.loads(ok("plan", *args, "--json").stdout)
    return the_plan


def journal(series: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok("status", series, "--all", "--json").stdout)
    for row in rows:  # the journal's own columns; "current" follows the series' edits
        row.pop("current")
    return rows


def states(report: dict[str, Any]) -> dict[str, str]:
    """``{shot id: state}`` from a render report."""
    return {s["key"].rsplit("/", 1)[1]: s["state"] for s in report["shots"]}


def episode_states(report: dict[str, Any]) -> dict[str, str]:
    return {e["id"]: e["state"] for e in report["episodes"]}


def cue_times(text: str) -> list[tuple[float, float]]:
    """Start and end of every cue in SRT (``00:00:01,500``) or VTT (``00:00:01.500``) text."""
    stamp = r"(\d+):(\d\d):(\d\d)[,.](\d{3})"
    times = []
    for m in re.finditer(stamp + r" --> " + stamp, text):
        g = [int(x) for x in m.groups()]
        times.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000,
                      g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000))
    return times


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.glob("*.mp4"))}


@pytest.fixture
def drafted(tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch
            ) -> tuple[Path, Path, dict[str, Any]]:
    """Two one-shot episodes rendered as drafts into the default folder ``<series>/out/draft``."""
    monkeypatch.chdir(tmp_path)
    series = write_series(tmp_path / "drafty", make_media, ONE_SHOT_EACH, head=HEAD)
    report = render_json(series, "--draft")
    return series, series / "out" / "draft", report


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory, make_media: MakeMedia
         ) -> Iterator[tuple[Path, Path, dict[str, Any]]]:
    """The two-episode series rendered once at full size with ``-o``: read it, never change it."""
    root = tmp_path_factory.mktemp("full")
    series = write_series(root / "tiny", make_media, TWO_EPISODES, head=HEAD)
    out = root / "episodes"
    report = render_json(series, "-o", out)
    yield series, out, report


# --- 1. a full render ------------------------------------------------------------------------


def test_full_render_writes_the_episodes(full: tuple[Path, Path, dict[str, Any]]) -> None:
    series, out, report = full
    assert report["ok"] is True
    assert states(report) == {"hello": "done", "wave": "done", "play": "done", "listen": "done"}
    assert episode_states(report) == {"ep01": "stitched", "ep02": "stitched"}
    for episode, seconds in (("ep01", EP01_SECONDS), ("ep02", EP02_SECONDS)):
        path = out / f"{episode}.mp4"
        assert path.is_file(), f"{path} missing"
        info = ffmpeg.probe(path)
        assert info.video is not None and info.audio is not None
        assert (info.video.width, info.video.height) == (1280, 720)
        assert (info.video.codec, info.audio.codec) == ("h264", "aac")
        lengths = ffmpeg.stream_lengths(path)
        assert lengths["video"] == pytest.approx(seconds, abs=FRAME), episode
        assert lengths["audio"] == pytest.approx(lengths["video"], abs=FRAME), episode
    assert {Path(p).name for e in report["episodes"] for p in e["subtitles"]} == {
        "ep01.srt", "ep01.vtt", "ep02.srt", "ep02.vtt"}
    assert not list(out.glob(".*")), "temporary files left beside the episodes"
    cache = series / ".storyboard" / "stitch-cache"  # kept for the next stitch or variant
    assert list((cache / "facts").glob("*.json")) and list((cache / "mezzanine").glob("*.mp4"))


def test_outputs_are_readable_like_any_new_file(full: tuple[Path, Path, dict[str, Any]]) -> None:
    """Episodes, subtitles and the lock (committed, shared) are not private temp files."""
    series, out, _ = full
    umask = os.umask(0o022)
    os.umask(umask)
    allowed = 0o666 & ~umask
    files = [*sorted(out.iterdir()), series / "storyboard.lock"]
    assert len(files) == 7
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode & ~allowed or (mode & 0o444) != (allowed & 0o444)}
    assert wrong == {}, f"umask {umask:03o}"


def test_dialogue_cue_starts_at_title_card_plus_shot_offset_plus_scene(
        full: tuple[Path, Path, dict[str, Any]]) -> None:
    _, out, _ = full
    for suffix in (".srt", ".vtt"):
        text = (out / f"ep01{suffix}").read_text(encoding="utf-8")
        cues = cue_times(text)
        assert len(cues) == 1, text
        assert cues[0][0] == pytest.approx(CUE_START, abs=0.002), text
        assert cues[0][1] == pytest.approx(CUE_END, abs=0.002), text


def test_dialogue_with_quotes_colons_percent_and_backslashes_is_verbatim(
        full: tuple[Path, Path, dict[str, Any]]) -> None:
    _, out, _ = full
    srt = (out / "ep01.srt").read_text(encoding="utf-8")
    vtt = (out / "ep01.vtt").read_text(encoding="utf-8")
    # SRT: the backslash and braces escaped as SubRip players draw them (docs/episodes.md)
    said = 'It\'s "50%": a\\\u2060b, 100%% \\{\u2060x\\} %\\{\u2060pts\\} done'
    assert f"\nMia: {said}\n" in srt.replace("\\}\ndone", "\\} done"), srt  # 2 lines
    assert TRICKY in vtt.replace("\n", " "), vtt


# --- 4. first_frame chains -------------------------------------------------------------------


def test_first_frame_chain_renders_the_dependency_first(
        full: tuple[Path, Path, dict[str, Any]]) -> None:
    series, _, _ = full
    rows = {r["shot"]: r for r in journal(series)}
    play, listen = rows["play"], rows["listen"]
    assert play["state"] == listen["state"] == "done"
    # The dependent shot's intent is journaled only after its dependency is done and cached.
    assert listen["intent_at"] >= play["updated_at"]
    assert listen["id"] > play["id"]
    # Its first frame is the dependency's last frame, taken after it finished, before the submit.
    played = Path(play["output_path"])
    frame = (series / ".storyboard" / "frames"
                 / f"{played.parent.name}-{played.stem}-last.png")
    assert frame.is_file()
    taken = frame.stat().st_mtime
    assert play["updated_at"] - 0.01 <= taken <= listen["submitted_at"] + 0.01


# --- 2. nothing changed: nothing renders, nothing is stitched --------------------------------


def test_rerun_with_nothing_changed_does_nothing(
        drafted: tuple[Path, Path, dict[str, Any]]) -> None:
    series, out, first = drafted
    assert states(first) == {"a": "done", "b": "done"}
    assert set(mtimes(out)) == {"one.mp4", "two.mp4"}
    before, rows = mtimes(out), journal(series)
    again = render_json(series, "--draft")
    assert states(again) == {"a": "cached", "b": "cached"}
    assert episode_states(again) == {"one": "up to date", "two": "up to date"}
    assert mtimes(out) == before
    assert journal(series) == rows
    the_plan = plan_json(series, "--draft")
    assert {s["key"]: s["status"] for s in the_plan["shots"]} == {
        "drafty/one/a": "cached", "drafty/two/b": "cached"}
    assert the_plan["counts"]["cached"] == 2 and the_plan["total_cost"] == 0


# --- 3. one prompt edited: one shot re-renders, one episode re-stitches ----------------------


def test_an_edited_prompt_rerenders_one_shot_and_restitches_its_episode(
        drafted: tuple[Path, Path, dict[str, Any]]) -> None:
    series, out, _ = drafted
    before, rows = mtimes(out), journal(series)
    yaml_file = series / "storyboard.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    yaml_file.write_text(text.replace("@sam plays @guitar", "@sam tunes @guitar"),
                         encoding="utf-8")
    the_plan = plan_json(series, "--draft")
    by_key = {s["key"]: s for s in the_plan["shots"]}
    assert by_key["drafty/one/a"]["status"] == "cached"
    assert by_key["drafty/two/b"]["status"] == "changed"
    assert [c["kind"] for c in by_key["drafty/two/b"]["changes"]] == ["prompt"]
    report = render_json(series, "--draft")
    assert states(report) == {"a": "cached", "b": "done"}
    assert episode_states(report) == {"one": "up to date", "two": "stitched"}
    after = journal(series)
    assert after[:len(rows)] == rows, "earlier journal rows changed"
    assert [(r["shot"], r["state"]) for r in after[len(rows):]] == [("b", "done")]
    now = mtimes(out)
    assert now["one.mp4"] == before["one.mp4"]
    assert now["two.mp4"] != before["two.mp4"]


# --- 5. drafts: quarter size, 12 fps, cached apart from full renders -------------------------


def test_draft_is_quarter_size_and_cached_apart_from_full(
        drafted: tuple[Path, Path, dict[str, Any]], tmp_path: Path) -> None:
    series, out, _ = drafted
    for name in ("one.mp4", "two.mp4"):
        info = ffmpeg.probe(out / name)
        assert info.video is not None
        assert (info.video.width, info.video.height, info.video.fps) == (320, 180, 12)
        assert ffmpeg.stream_lengths(out / name)["video"] == pytest.approx(2, abs=DRAFT_FRAME)
    assert {s["status"] for s in plan_json(series)["shots"]} == {"new"}
    full_out = tmp_path / "full-size"
    report = render_json(series, "one", "-o", full_out)
    assert states(report) == {"a": "done"}, "a full render reused a draft"
    info = ffmpeg.probe(full_out / "one.mp4")
    assert info.video is not None
    assert (info.video.width, info.video.height, info.video.fps) == (1280, 720, 30)
    # ... and the full render did not replace the draft in the cache.
    assert states(render_json(series, "--draft")) == {"a": "cached", "b": "cached"}


def test_drafts_have_their_own_folder_and_never_touch_the_lock(tmp_path: Path,
                                                               make_media: MakeMedia) -> None:
    """Switching between --draft and full renders re-stitches nothing and leaves the lock alone."""
    series = write_series(tmp_path / "switch", make_media,
                          "- id: one\n  shots:\n    - {id: a, prompt: '@mia waves'}\n", head=HEAD)
    out = tmp_path / "out"
    lock = series / "storyboard.lock"
    assert states(render_json(series, "--draft", "-o", out)) == {"a": "done"}
    assert not lock.exists(), "a draft wrote the lock file"
    full_report = render_json(series, "-o", out)
    assert states(full_report) == {"a": "done"}
    locked = lock.read_bytes()
    assert '"cache_key": "local-r' in locked.decode() and "draft" not in locked.decode()
    full_mtime = (out / "one.mp4").stat().st_mtime_ns
    draft_mtime = (out / "draft" / "one.mp4").stat().st_mtime_ns
    again = render_json(series, "--draft", "-o", out)
    assert states(again) == {"a": "cached"} and episode_states(again) == {"one": "up to date"}
    assert lock.read_bytes() == locked
    full_again = render_json(series, "-o", out)
    assert episode_states(full_again) == {"one": "up to date"}
    assert (out / "one.mp4").stat().st_mtime_ns == full_mtime
    assert (out / "draft" / "one.mp4").stat().st_mtime_ns == draft_mtime
    assert ffmpeg.probe(out / "draft" / "one.mp4").video.width == 320  # type: ignore[union-attr]


# --- 6. --json and --quiet -------------------------------------------------------------------


def test_json_report_and_quiet(tmp_path: Path, make_media: MakeMedia) -> None:
    # Every character is used, so there is no warning either: --quiet prints nothing at all.
    series = write_series(tmp_path / "quiet", make_media, "- id: one\n  shots:\n    - "
                          "{id: a, prompt: '@mia waves at @sam with @guitar'}\n", head=HEAD)
    out = tmp_path / "out"
    quiet = ok("render", series, "--draft", "-o", out, "--quiet")
    assert quiet.stdout == "" and quiet.stderr == ""
    assert (out / "draft" / "one.mp4").is_file()
    yaml_file = series / "storyboard.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace("waves", "nods"),
                         encoding="utf-8")
    loud = ok("render", series, "--draft", "-o", out)
    assert loud.stdout == ""  # progress and the summary go to stderr
    assert "episode one: stitched" in loud.stderr
    report = json.loads(ok("render", series, "--draft", "-o", out, "--json").stdout)
    assert report["ok"] is True and report["spent"] == 0
    assert [(s["key"], s["state"]) for s in report["shots"]] == [("quiet/one/a", "cached")]
    assert report["shots"][0]["output"] and Path(report["shots"][0]["output"]).is_file()
    assert [(e["id"], e["state"], e["path"]) for e in report["episodes"]] == [
        ("one", "up to date", str(out / "draft" / "one.mp4"))]


# --- 7. bad input ----------------------------------------------------------------------------


def test_unwritable_output_folder_is_a_clear_error(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media,
                          "- id: one\n  shots:\n    - {id: a, prompt: '@mia waves'}\n", head=HEAD)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = invoke("render", series, "--draft", "-o", blocker / "out")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert re.search(r"error: .*a-file/out", result.stderr), result.stderr
    assert blocker.read_text(encoding="utf-8") == "not a folder"
    leftovers = [p for p in tmp_path.rglob("*.mp4") if ".storyboard" not in p.parts
                 and "media" not in p.parts]
    assert leftovers == []


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in the YAML")


def test_missing_music_file_is_reported_at_its_place(tmp_path: Path,
                                                      make_media: MakeMedia) -> None:
    head = HEAD + "music: {file: media/no-such-bed.mp3, volume: -14}\n"
    series = write_series(tmp_path / "s", make_media,
                          "- id: one\n  shots:\n    - {id: a, prompt: '@mia waves'}\n", head=head)
    line, col = where((series / "storyboard.yaml").read_text(encoding="utf-8"),
                      "media/no-such-bed.mp3")
    result = invoke("check", series)
    assert result.exit_code == 1
    assert re.search(rf"storyboard\.yaml:{line}:{col}: error: .*no-such-bed\.mp3",
                     result.stderr), result.stderr
    assert "Traceback" not in result.output


def test_transition_longer_than_a_shot_is_reported_at_its_place(tmp_path: Path,
                                                                make_media: MakeMedia) -> None:
    episodes = textwrap.dedent("""\
        - id: one
          shots:
            - {id: a, prompt: '@mia waves'}
            - id: b
              prompt: '@sam plays'
              transition: {type: dissolve, duration: 2.5}
        """)
    series = write_series(tmp_path / "s", make_media, episodes, head=HEAD)
    text = (series / "storyboard.yaml").read_text(encoding="utf-8")
    line, _ = where(text, "transition:")
    result = invoke("check", series)
    assert result.exit_code == 1
    found = re.search(rf"storyboard\.yaml:{line}:(\d+): error: (.*)", result.stderr)
    assert found, result.stderr
    assert "2.5" in found.group(2) and "dissolve" in found.group(2)
    assert int(found.group(1)) >= where(text, "transition:")[1]
    render = invoke("render", series, "--draft", "-o", tmp_path / "out")
    assert render.exit_code == 1 and not (tmp_path / "out").exists()


def test_an_early_error_is_the_last_word(tmp_path: Path, make_media: MakeMedia) -> None:
    """A render refused before it starts prints its error, not an empty progress table after it."""
    series = write_series(tmp_path / "s", make_media,
                          "- id: one\n  shots:\n    - {id: a, prompt: '@mia waves'}\n", head=HEAD)
    result = invoke("render", series, "nope", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "error: no episode 'nope' in this series; expected one of: one" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: "), result.stderr
    assert "spent so far" not in result.stderr
