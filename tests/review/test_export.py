"""`storyboard export`: each episode as an editor timeline, read back with OpenTimelineIO.

Every format is written from the rendered example and read back with its own adapter, then
compared with the compiled episode laid out by the stitcher: the clips (cards and shots) in
order, how long each is on screen, the transitions, and the total, which must equal the stitched
episode's length as ffmpeg measures it. A clip's time on screen is its range in the track plus
the transitions' halves that play its handles, so the comparison does not depend on how an
adapter splits a transition around its cut (EDL puts the cut at the dissolve's start).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from storyboard.animatic import cache_key as local_cache_key
from storyboard.cli import cli
from storyboard.language.compile import compile_path
from storyboard.media import ffmpeg
from storyboard.review.export import FORMATS, ExportError, export_series
from storyboard.run.state.cache import OutputCache
from storyboard.stitch.series.cut import Cut, episode_cut
from storyboard.stitch.series.episodes import EpisodeBuilder

SUFFIX = {name: fmt.suffix for name, fmt in FORMATS.items()}


@pytest.fixture(scope="module")
def exports(rendered_example: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, tuple[Path, str]]:
    series, _ = rendered_example
    written = {}
    for name in FORMATS:
        out = tmp_path_factory.mktemp(name)
        result = CliRunner().invoke(cli, ["export", str(series), "--format", name, "-o", str(out)])
        assert result.exit_code == 0, result.output
        written[name] = (out, result.output)
    return written


def laid_out(rendered: tuple[Path, Path]) -> dict[str, Cut]:
    manifest = compile_path(rendered[0])
    builder = EpisodeBuilder(manifest, rendered[1], draft=False)
    cache = OutputCache(manifest.root, local_cache_key())
    return {ep.id: episode_cut(builder, ep, cache) for ep in manifest.episodes}


def read(path: Path, rate: int = 30) -> Any:
    options = {"rate": rate} if path.suffix == ".edl" else {}
    timeline = otio.adapters.read_from_file(str(path), **options)
    if isinstance(timeline, otio.schema.SerializableCollection):
        (timeline,) = list(timeline)
    return timeline


def on_screen(track: Any) -> list[tuple[str, int, int]]:
    """(clip name, first frame, frames) each clip is seen, transitions' handles included."""
    items = list(track)
    spans = []
    for index, item in enumerate(items):
        if not isinstance(item, otio.schema.Clip):
            continue
        where = track.range_of_child_at_index(index)
        start, end = where.start_time.value, where.end_time_exclusive().value
        before = items[index - 1] if index > 0 else None
        after = items[index + 1] if index + 1 < len(items) else None
        if isinstance(before, otio.schema.Transition):
            start -= before.in_offset.value
        if isinstance(after, otio.schema.Transition):
            end += after.out_offset.value
        spans.append((item.name.lower(), round(start), round(end - start)))
    return spans


def expected(cut: Cut) -> list[tuple[str, int, int]]:
    return [(item.name, cut.timeline.starts[i], cut.timeline.frames[i])
            for i, item in enumerate(cut.items)]


def transitions(track: Any) -> list[int]:
    return [round(t.in_offset.value + t.out_offset.value) for t in track
            if isinstance(t, otio.schema.Transition)]


@pytest.mark.parametrize("name", ["otio", "fcp7", "edl"])
def test_clips_order_lengths_and_transitions_match_the_episode(
        name: str, exports: dict[str, tuple[Path, str]],
        rendered_example: tuple[Path, Path]) -> None:
    for episode, cut in laid_out(rendered_example).items():
        timeline = read(exports[name][0] / f"{episode}{SUFFIX[name]}")
        video = timeline.video_tracks()
        assert len(video) == 1
        assert on_screen(video[0]) == expected(cut)
        assert transitions(video[0]) == [o for o in cut.timeline.overlaps if o]


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_timeline_lasts_as_long_as_its_stitched_episode(
        name: str, exports: dict[str, tuple[Path, str]],
        rendered_example: tuple[Path, Path]) -> None:
    for episode in ("ep01", "ep02"):
        stitched = ffmpeg.stream_lengths(rendered_example[1] / f"{episode}.mp4")["video"]
        timeline = read(exports[name][0] / f"{episode}{SUFFIX[name]}")
        assert timeline.duration().to_seconds() == pytest.approx(stitched, abs=1e-6)
        assert f"{episode}{SUFFIX[name]} ({stitched:.3f} s at 30 fps)" in exports[name][1]


def test_the_edl_export_says_at_which_rate_to_read_it(
        exports: dict[str, tuple[Path, str]], rendered_example: tuple[Path, Path]) -> None:
    """An EDL does not record its frame rate and readers guess 24: the export says the rate, in
    its own output (the other formats record it)."""
    out, output = exports["edl"]
    for episode in ("ep01", "ep02"):
        assert (f"warning: {episode}.edl counts 30 frames a second, which an EDL does not record: "
                f"read it at 30 fps") in output and "rate=30" in output
    stitched = ffmpeg.stream_lengths(rendered_example[1] / "ep01.mp4")["video"]
    assert read(out / "ep01.edl", rate=30).duration().to_seconds() == pytest.approx(stitched)
    assert read(out / "ep01.edl", rate=24).duration().to_seconds() > stitched  # the guess
    for name in ("otio", "fcp7", "fcpxml"):
        assert "does not record" not in exports[name][1]


def test_fcpxml_keeps_clips_and_lengths_but_drops_transitions_with_a_warning(
        exports: dict[str, tuple[Path, str]], rendered_example: tuple[Path, Path]) -> None:
    out, output = exports["fcpxml"]
    assert "warning: the FCPXML adapter drops transitions" in output
    ep01 = laid_out(rendered_example)["ep01"]
    video = read(out / "ep01.fcpxml").video_tracks()[0]
    # the 15-frame crossfade becomes a cut in its middle: 7 frames into it
    assert [(c.name, c.duration().value) for c in video] == [
        ("title card", 60), ("ballad", 300 - 15 + 7), ("reply", 150 - 7)]
    assert transitions(video) == [] and ep01.timeline.overlaps[2] == 15


def test_the_otio_timeline_carries_media_markers_music_and_metadata(
        exports: dict[str, tuple[Path, str]], rendered_example: tuple[Path, Path]) -> None:
    series = rendered_example[0]
    timeline = read(exports["otio"][0] / "ep01.otio")
    assert [t.name for t in timeline.tracks] == ["V1", "A1", "A2"]
    clips = list(timeline.video_tracks()[0].find_clips())
    manifest = compile_path(series)
    ballad = manifest.episodes[0].shots[0]
    out = exports["otio"][0]
    assert (out / clips[1].media_reference.target_url).resolve() == (
        series / ".storyboard" / "cache" / local_cache_key() / f"{ballad.hash}.mp4").resolve()
    assert (out / clips[0].media_reference.target_url).resolve().parent == (
        series / ".storyboard" / "cards").resolve()
    meta = clips[1].metadata["storyboard"]
    assert (meta["shot"], meta["hash"], meta["prompt"]) == ("ballad", ballad.hash,
                                                           ballad.request.prompt)
    assert [(m.name, m.marked_range.start_time.value, m.marked_range.duration.value, m.color)
            for m in clips[1].markers] == [("Scene 1", 0, 90, "GREEN"), ("Scene 2", 90, 210, "GREEN"),
                                           ("mia: That was lovely.", 90, 210, "YELLOW")]
    sound = timeline.tracks[1]
    assert on_screen(sound) == on_screen(timeline.video_tracks()[0])  # shot sound follows picture
    music = list(timeline.tracks[2])
    assert {(out / c.media_reference.target_url).resolve() for c in music} == {
        (series / "media" / "music" / "bed.mp3").resolve()}
    assert sum(c.duration().value for c in music) == 495  # looped to the episode's length


def test_edl_dissolves_use_handles_from_the_rendered_files(
        exports: dict[str, tuple[Path, str]]) -> None:
    edl = (exports["edl"][0] / "ep01.edl").read_text("utf-8")
    assert " D 015 " in edl and "* FROM CLIP NAME:  ballad" in edl and "TO CLIP NAME:  reply" in edl
    assert "warning: an EDL holds one video track" in exports["edl"][1]
    # the fade of ep02 (and the title card) are there too
    assert " D 015 " in (exports["edl"][0] / "ep02.edl").read_text("utf-8")


def test_an_unrendered_shot_is_a_missing_clip_with_a_warning(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
    series = tmp_path / "coffee-shop"
    shutil.copytree(example, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    manifest = compile_path(series)
    warnings: list[str] = []
    result = export_series(manifest, "otio", out=tmp_path / "out", cache_key="nothing-rendered",
                           episode="ep02", warn=warnings.append)
    assert [p.name for p in result.files] == ["ep02.otio"]
    assert "ep02/order is not rendered yet" in " ".join(warnings)
    timeline = read(tmp_path / "out" / "ep02.otio")
    clips = list(timeline.video_tracks()[0].find_clips())
    assert [type(c.media_reference).__name__ for c in clips] == [
        "MissingReference", "MissingReference", "ExternalReference"]  # the end card is rendered
    assert timeline.duration().to_seconds() == pytest.approx(4 + 3 + 2 - 0.5)


def test_bad_format_and_episode_are_clear_errors(rendered_example: tuple[Path, Path]) -> None:
    manifest = compile_path(rendered_example[0])
    with pytest.raises(ExportError, match="unknown format 'avid'"):
        export_series(manifest, "avid")
    with pytest.raises(ExportError, match=r"no episode 'ep09'.*ep01, ep02"):
        export_series(manifest, "otio", episode="ep09")
    result = CliRunner().invoke(cli, ["export", str(rendered_example[0]), "--format", "avid"])
    assert result.exit_code == 2 and "Invalid value for '--format'" in result.output


WIPES = """\
- id: wipes
  title_card: {text: "Wipes", duration: 2}
  end_card: {text: "The end", duration: 2}
  shots:
    - id: a
      duration: 2
      prompt: "@mia waves"
      transition: {type: crossfade, duration: 0.25}
    - id: b
      duration: 3
      prompt: "@guitar on a chair"
      transition: {type: wipeleft, duration: 0.75}
    - id: c
      duration: 2
      prompt: "@mia sits"
      transition: {type: slideup, duration: 0.5}
"""


def test_odd_transitions_into_cards_match_the_stitched_draft(
        tmp_path: Path, make_media: Any) -> None:
    """Draft proxies run at 12 fps, so 0.25 s is 3 frames: a transition split unevenly around
    its cut. The first shot crossfades out of the title card; wipes and slides are Custom."""
    import storyboard
    from storyboard.run.setup import make_provider
    from tests.fixtures.compiler import write_series
    series = write_series(tmp_path / "s", make_media, WIPES)
    report = storyboard.render(series, draft=True, yes=True, out=tmp_path / "episodes")
    assert report.ok, report
    manifest = compile_path(series)
    key = make_provider(manifest, None, draft=True).cache_key
    result = export_series(manifest, "otio", out=tmp_path / "otio", cache_key=key, draft=True)
    stitched = ffmpeg.stream_lengths(tmp_path / "episodes" / "draft" / "wipes.mp4")["video"]
    timeline = read(result.files[0])
    assert timeline.duration().to_seconds() == pytest.approx(stitched, abs=1e-6)
    builder = EpisodeBuilder(manifest, tmp_path / "episodes" / "draft", draft=True)
    cut = episode_cut(builder, manifest.episodes[0], OutputCache(manifest.root, key))
    assert cut.fps == 12 and cut.timeline.overlaps == (0, 3, 9, 6, 0)
    video = timeline.video_tracks()[0]
    assert on_screen(video) == expected(cut)
    kinds = [(t.name, t.transition_type, t.in_offset.value, t.out_offset.value)
             for t in video if isinstance(t, otio.schema.Transition)]
    assert kinds == [("crossfade", "SMPTE_Dissolve", 1, 2), ("wipeleft", "Custom_Transition", 4, 5),
                     ("slideup", "Custom_Transition", 3, 3)]
    edl = export_series(manifest, "edl", out=tmp_path / "edl", cache_key=key, draft=True)
    assert "wipes: 12 fps has no SMPTE timecode, so wipes.edl counts at 24 fps (each frame "\
           "repeated)" in edl.warnings
    doubled = [(name, 2 * start, 2 * frames) for name, start, frames in expected(cut)]
    assert on_screen(read(edl.files[0], rate=24).video_tracks()[0]) == doubled
    # Editors' XML wants a timecode rate too: a draft counts at 24 fps there, every frame twice.
    fcp7 = read(export_series(manifest, "fcp7", out=tmp_path / "fcp7", cache_key=key,
                              draft=True).files[0])
    assert on_screen(fcp7.video_tracks()[0]) == doubled
    assert fcp7.duration().to_seconds() == pytest.approx(stitched, abs=1e-6)
    fcpx = read(export_series(manifest, "fcpxml", out=tmp_path / "fcpx", cache_key=key,
                              draft=True).files[0])
    assert fcpx.duration().rate == 24
    assert fcpx.duration().to_seconds() == pytest.approx(stitched, abs=1e-6)


COPY_JOINED = """\
- id: plain
  title_card: {text: "Plain", duration: 2}
  output: {loudness: null}
  shots:
    - {id: a, duration: 2, prompt: "@mia waves"}
    - {id: b, duration: 3, prompt: "@guitar on a chair"}
    - {id: c, duration: 2, prompt: "@mia sits"}
"""


def test_an_episode_joined_by_stream_copy_keeps_its_length_to_the_frame(
        tmp_path: Path, make_media: Any) -> None:
    """Joined by stream copy, each clip lasts as long as its longer stream: the cut follows the
    stitcher's own layout of the copy path (its reported duration), and the timeline is within a
    frame of the file (the joined AAC keeps one encoder delay, 1024 samples, at its start)."""
    import storyboard
    from storyboard.run.setup import make_provider
    from tests.fixtures.compiler import SERIES_HEAD, write_series
    series = write_series(tmp_path / "s", make_media, COPY_JOINED,
                          head=SERIES_HEAD + "output: {loudness: null}\n")
    report = storyboard.render(series, yes=True, out=tmp_path / "episodes")
    assert report.ok and report.episodes[0].path_taken == "copy", report
    manifest = compile_path(series)
    key = make_provider(manifest, None).cache_key
    builder = EpisodeBuilder(manifest, tmp_path / "episodes", draft=False)
    cut = episode_cut(builder, manifest.episodes[0], OutputCache(manifest.root, key))
    assert cut.duration == pytest.approx(report.episodes[0].duration, abs=1e-9)
    assert [i.name for i in cut.items] == ["title card", "a", "b", "c"]
    result = export_series(manifest, "otio", out=tmp_path / "otio", cache_key=key)
    stitched = ffmpeg.stream_lengths(tmp_path / "episodes" / "plain.mp4")["video"]
    timeline = read(result.files[0])
    assert abs(timeline.duration().to_seconds() - stitched) <= 1 / 30
    assert on_screen(timeline.video_tracks()[0]) == expected(cut)


@pytest.mark.parametrize("name", ["otio", "fcp7", "fcpxml"])
def test_timelines_point_at_media_relative_to_their_folder(
        name: str, rendered_example: tuple[Path, Path], tmp_path: Path) -> None:
    """Media paths are relative to the export's folder: move the series with its export inside it
    and every clip still finds its file (no absolute path, no file: URL, in any format)."""
    series = tmp_path / "before" / "coffee-shop"
    shutil.copytree(rendered_example[0], series, symlinks=True)
    result = CliRunner().invoke(cli, ["export", str(series), "--format", name, "-o",
                                      str(series / "timelines")])
    assert result.exit_code == 0, result.output
    moved = tmp_path / "after" / "renamed"
    moved.parent.mkdir()
    series.rename(moved)
    for file in sorted((moved / "timelines").iterdir()):
        text = file.read_text("utf-8")
        assert "file:" not in text and str(tmp_path) not in text
        urls = [c.media_reference.target_url for c in read(file).find_clips()]
        assert urls and all((file.parent / url).is_file() for url in urls), urls
    edl = CliRunner().invoke(cli, ["export", str(moved), "--format", "edl", "-o", str(tmp_path / "e")])
    assert edl.exit_code == 0 and str(tmp_path) not in (tmp_path / "e" / "ep01.edl").read_text("utf-8")


def test_an_export_folder_inside_the_series_linked_outside_is_never_written_through(
        rendered_example: tuple[Path, Path], tmp_path: Path) -> None:
    """``-o`` a folder inside the series under a link that leads outside it (``timelines`` ->
    elsewhere): refused naming the link, nothing written where it points."""
    series, elsewhere = tmp_path / "coffee-shop", tmp_path / "elsewhere"
    shutil.copytree(rendered_example[0], series, symlinks=True)
    elsewhere.mkdir()
    (series / "timelines").symlink_to(elsewhere, target_is_directory=True)
    result = CliRunner().invoke(cli, ["export", str(series), "--format", "otio", "-o",
                                      str(series / "timelines" / "otio")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{series / 'timelines'} is a link (to {elsewhere})" in result.output, result.output
    assert list(elsewhere.iterdir()) == []
