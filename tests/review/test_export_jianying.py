"""`storyboard export --format jianying|capcut`: a draft folder per episode, read back as JSON.

The rendered example is written as drafts and ``draft_content.json`` is parsed: its tracks, every
clip's place and trim to the frame (the stitcher's clock, transitions centred on their cuts), the
transitions, the music bed and the subtitles, which must say what the stitched episode's SRT says,
when it says it. Each target's draft is what its editor and the maintained library read: the main
file under pyJianYingDraft's name (and the macOS editors'), the target's header, media inside the
draft (``materials/``) under absolute paths, as the library writes them; the library's own
``load_template`` reads the draft back; the same episode writes the same bytes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.language.compile import compile_path
from storyboard.providers.local import cache_key as local_cache_key
from storyboard.review.export import ExportError, export_series, visible
from storyboard.review.jianying import MAC_FILE, MAIN_FILE, micro
from storyboard.run.state.cache import OutputCache
from storyboard.stitch.series.cut import Cut, episode_cut
from storyboard.stitch.series.episodes import EpisodeBuilder


@pytest.fixture(scope="module")
def drafts(rendered_example: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, tuple[Path, str]]:
    series, _ = rendered_example
    written = {}
    for name in ("jianying", "capcut"):
        out = tmp_path_factory.mktemp(name)
        result = CliRunner().invoke(cli, ["export", str(series), "--format", name, "-o", str(out)])
        assert result.exit_code == 0, result.output
        written[name] = (out, result.output)
    return written


def cuts(rendered: tuple[Path, Path]) -> dict[str, Cut]:
    manifest = compile_path(rendered[0])
    builder = EpisodeBuilder(manifest, rendered[1], draft=False)
    cache = OutputCache(manifest.root, local_cache_key())
    return {ep.id: episode_cut(builder, ep, cache) for ep in manifest.episodes}


def draft(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / MAIN_FILE).read_text("utf-8")))


def track(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    (found,) = [t for t in data["tracks"] if t["name"] == name]
    return list(found["segments"])


def srt_cues(path: Path) -> list[tuple[int, int, str]]:
    """(start µs, end µs, text) of each cue of an SRT file."""
    def micros(stamp: str) -> int:
        hms, ms = stamp.split(",")
        h, m, s = (int(x) for x in hms.split(":"))
        return ((h * 60 + m) * 60 + s) * 1_000_000 + int(ms) * 1000
    cues = []
    for block in path.read_text("utf-8").strip().split("\n\n"):
        lines = block.split("\n")
        start, end = lines[1].split(" --> ")
        cues.append((micros(start), micros(end), "\n".join(lines[2:])))
    return cues


def test_a_draft_per_episode_with_video_music_and_subtitle_tracks(
        drafts: dict[str, tuple[Path, str]]) -> None:
    out, output = drafts["jianying"]
    assert sorted(p.name for p in out.iterdir()) == ["ep01-jianying", "ep02-jianying"]
    assert "wrote " + str(out / "ep01-jianying") + " (16.500 s at 30 fps)" in output
    folder = out / "ep01-jianying"
    assert {p.name for p in folder.iterdir()} == {MAIN_FILE, MAC_FILE, "draft_meta_info.json",
                                                  "materials"}
    assert (folder / MAC_FILE).read_bytes() == (folder / MAIN_FILE).read_bytes()
    data = draft(folder)
    assert [(t["type"], t["name"]) for t in data["tracks"]] == [
        ("video", "video"), ("audio", "music"), ("text", "subtitles")]
    assert (data["fps"], data["duration"]) == (30, 16_500_000)
    assert data["canvas_config"]["width"] == 1280 and data["canvas_config"]["height"] == 720
    meta = json.loads((folder / "draft_meta_info.json").read_text("utf-8"))
    assert (meta["draft_id"], meta["draft_name"], meta["tm_duration"]) == (
        data["id"], "ep01-jianying", 16_500_000)


def test_clips_sit_at_their_cut_points_to_the_frame(
        drafts: dict[str, tuple[Path, str]], rendered_example: tuple[Path, Path]) -> None:
    for episode, cut in cuts(rendered_example).items():
        data = draft(drafts["jianying"][0] / f"{episode}-jianying")
        names = {v["id"]: v["material_name"] for v in data["materials"]["videos"]}
        got = [(names[s["material_id"]], s["target_timerange"], s["source_timerange"])
               for s in track(data, "video")]
        want, at = [], 0
        for index, item in enumerate(cut.items):
            source, frames = visible(cut, index)
            span = {"start": micro(at, cut.fps), "duration": micro(at + frames, cut.fps)
                    - micro(at, cut.fps)}
            trim = {"start": micro(source, cut.fps), "duration": micro(source + frames, cut.fps)
                    - micro(source, cut.fps)}
            want.append((f"{index + 1:02d} {item.name}", span, trim))
            at += frames
        assert got == want
        assert at == cut.timeline.total and data["duration"] == micro(at, cut.fps)
    ep01 = draft(drafts["jianying"][0] / "ep01-jianying")
    reply = track(ep01, "video")[2]
    assert reply["target_timerange"] == {"start": 11_733_333, "duration": 4_766_667}
    assert reply["source_timerange"]["start"] == 233_333  # 7 frames of handle before the cut


def test_transitions_are_the_editors_own(drafts: dict[str, tuple[Path, str]]) -> None:
    ep01 = draft(drafts["jianying"][0] / "ep01-jianying")
    (crossfade,) = ep01["materials"]["transitions"]
    assert (crossfade["name"], crossfade["duration"]) == ("叠化", 500_000)
    ballad = track(ep01, "video")[1]  # the transition sits on the clip before the cut
    assert crossfade["id"] in ballad["extra_material_refs"]
    ep02 = draft(drafts["jianying"][0] / "ep02-jianying")
    assert [(t["name"], t["duration"]) for t in ep02["materials"]["transitions"]] == [
        ("闪黑", 500_000)]  # a fade through black


def test_subtitles_say_what_the_stitched_srt_says(
        drafts: dict[str, tuple[Path, str]], rendered_example: tuple[Path, Path]) -> None:
    for episode in ("ep01", "ep02"):
        data = draft(drafts["jianying"][0] / f"{episode}-jianying")
        texts = {m["id"]: json.loads(m["content"])["text"] for m in data["materials"]["texts"]}
        got = [(s["target_timerange"]["start"],
                s["target_timerange"]["start"] + s["target_timerange"]["duration"],
                texts[s["material_id"]]) for s in track(data, "subtitles")]
        assert got == srt_cues(rendered_example[1] / f"{episode}.srt")
    ep02 = draft(drafts["jianying"][0] / "ep02-jianying")
    assert [json.loads(m["content"])["text"] for m in ep02["materials"]["texts"]] == [
        "Mia: The usual? 100% oat, no sugar.", "Sam: Thanks, Mia!"]


def test_the_music_bed_loops_to_the_episode_at_its_volume(
        drafts: dict[str, tuple[Path, str]]) -> None:
    data = draft(drafts["jianying"][0] / "ep01-jianying")
    (bed,) = data["materials"]["audios"]
    music = track(data, "music")
    assert bed["path"] == str(drafts["jianying"][0] / "ep01-jianying" / "materials" / "music-bed.mp3")
    assert sum(s["target_timerange"]["duration"] for s in music) == 16_500_000
    assert music[0]["volume"] == pytest.approx(10 ** (-14 / 20))  # music: {volume: -14} (dB)
    assert data["materials"]["audio_fades"][0]["fade_out_duration"] == 1_000_000
    assert "the music bed is not ducked" in drafts["jianying"][1]


def test_media_is_inside_the_draft_under_absolute_paths_as_the_library_writes(
        drafts: dict[str, tuple[Path, str]]) -> None:
    folder = drafts["jianying"][0] / "ep01-jianying"
    data = draft(folder)
    paths = [m["path"] for m in data["materials"]["videos"] + data["materials"]["audios"]]
    assert paths == [str(folder / "materials" / name) for name in (
        "01-title-card.mp4", "02-ballad.mp4", "03-reply.mp4", "music-bed.mp3")]
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in paths)


def test_each_target_carries_its_editors_header_and_the_library_reads_it_back(
        drafts: dict[str, tuple[Path, str]]) -> None:
    import pyJianYingDraft
    for name, source in (("jianying", "lv"), ("capcut", "cc")):
        folder = drafts[name][0] / f"ep01-{name}"
        data = draft(folder)
        assert data["platform"]["app_source"] == data["last_modified_platform"]["app_source"] \
            == source
        loaded = pyJianYingDraft.DraftFolder(str(drafts[name][0])).load_template(f"ep01-{name}")
        assert loaded.duration == data["duration"] == 16_500_000  # the library's own reader
        assert [t["name"] for t in loaded.content["tracks"]] == ["video", "music", "subtitles"]
    assert draft(drafts["jianying"][0] / "ep01-jianying")["platform"]["app_version"] == "5.9.0"


def test_the_same_episode_writes_the_same_bytes(
        drafts: dict[str, tuple[Path, str]], rendered_example: tuple[Path, Path],
        tmp_path: Path) -> None:
    manifest = compile_path(rendered_example[0])
    out = drafts["jianying"][0]
    before = {n: (out / "ep01-jianying" / n).read_bytes() for n in (MAIN_FILE, "draft_meta_info.json")}
    export_series(manifest, "jianying", out=out, episode="ep01")  # again, in the same place
    for name, data in before.items():
        assert (out / "ep01-jianying" / name).read_bytes() == data
    export_series(manifest, "jianying", out=tmp_path, episode="ep01")
    capcut = draft(drafts["capcut"][0] / "ep01-capcut")
    assert capcut["id"] != draft(tmp_path / "ep01-jianying")["id"]  # two drafts, two ids
    assert "CapCut may show them as missing" in drafts["capcut"][1]


def test_without_the_library_the_error_says_which_extra(
        rendered_example: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyJianYingDraft", None)
    from storyboard.errors import install_line
    with pytest.raises(ExportError) as raised:
        export_series(compile_path(rendered_example[0]), "jianying", out=tmp_path)
    assert "needs the jianying extra" in str(raised.value)
    assert str(raised.value).endswith(f"add the extra with: {install_line('jianying')}")


def test_a_folder_that_is_not_a_draft_is_never_replaced(
        rendered_example: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "ep01-jianying").mkdir()
    (tmp_path / "ep01-jianying" / "notes.txt").write_text("mine", "utf-8")
    result = CliRunner().invoke(cli, ["export", str(rendered_example[0]), "--format", "jianying",
                                      "--episode", "ep01", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "is not a draft storyboard wrote" in result.output
    assert (tmp_path / "ep01-jianying" / "notes.txt").read_text("utf-8") == "mine"
    assert "Traceback" not in result.output


def test_a_series_without_music_is_not_warned_of_an_unducked_bed(
        rendered_example: tuple[Path, Path], tmp_path: Path) -> None:
    series = tmp_path / "quiet"
    shutil.copytree(rendered_example[0], series)
    main = series / "storyboard.yaml"
    text = main.read_text("utf-8")
    main.write_text("\n".join(line for line in text.splitlines()
                              if not line.startswith("music:")) + "\n", "utf-8")
    result = CliRunner().invoke(cli, ["export", str(series), "--format", "jianying",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "music bed" not in result.output
    assert track(draft(tmp_path / "out" / "ep01-jianying"), "video")
