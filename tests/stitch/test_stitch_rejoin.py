"""Re-joining only what changed (issue 48): after a one-shot edit, a render's stitch (which keeps
no float sound) makes the sound of the edited shot's neighbours only, encodes the edited shot's
sound and its two joins only, and writes the very bytes a stitch from an empty cache writes."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from storyboard.language.request import Transition
from storyboard.media import ffmpeg
from storyboard.stitch import Clip, StitchOptions, stitch
from storyboard.stitch.join import mezzanine
from tests.fixtures.ffmpeg_runs import nothing_remembered

MakeMedia = Callable[..., Path]


def options(folder: Path) -> StitchOptions:
    return StitchOptions(loudness=None, cache_dir=folder, keep_sound=False, preset="ultrafast",
                         width=160, height=120, fps=30)


def shot(make_media: MakeMedia, folder: Path, name: str, tone: int, **kw: Any) -> Path:
    return make_media("video", folder / f"{name}.mp4", width=160, height=120, seconds=2.0,
                      tone=tone, **kw)


def episode(make_media: MakeMedia, folder: Path, count: int = 6) -> list[Clip]:
    """``count`` two-second shots, each with its own tone, the next to last joined by a
    crossfade: an edit at s2 (or s3) has shots before it, after it and past its neighbours."""
    files = [shot(make_media, folder, f"s{i}", 200 + 60 * i) for i in range(count)]
    return [Clip(f, Transition("crossfade", 0.5) if i == count - 2 else Transition())
            for i, f in enumerate(files)]


class Runs:
    """What each ffmpeg run was for, and how many sound encodes (``.adts``) it wrote."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.what: list[str] = []
        self.encodes = 0
        real = ffmpeg.run

        def run(args: Sequence[str], **kw: Any) -> str:
            self.what.append(str(kw.get("what", "")))
            self.encodes += sum(str(a).endswith(".adts") for a in args)
            return real(args, **kw)
        nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
        monkeypatch.setattr(ffmpeg, "run", run)

    def sounds(self) -> set[str]:
        """The shots whose sound alone was made (their video kept)."""
        prefix = "preparing the sound of "
        return {w[len(prefix):].split()[0] for w in self.what if w.startswith(prefix)}


def test_an_edit_makes_and_encodes_only_the_sound_around_it(
        binary: str, make_media: MakeMedia, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    clips = episode(make_media, tmp_path)
    first = stitch(clips, tmp_path / "ep.mp4", options(tmp_path / "cache"))
    assert first.path_taken == "filtered"  # the crossfade: segments, spliced sound
    edited = [*clips[:2], Clip(shot(make_media, tmp_path, "new", 1234, pattern="smptebars")),
              *clips[3:]]
    runs = Runs(monkeypatch)
    again = stitch(edited, tmp_path / "ep.mp4", options(tmp_path / "cache"))
    assert runs.sounds() == {"s1.mp4", "s3.mp4"}  # the new shot's own is made with its video
    assert runs.encodes == 3  # the new shot's sound and its two joins
    nothing_remembered(monkeypatch)  # from an empty cache, as a new process makes it
    fresh = stitch(edited, tmp_path / "fresh.mp4", options(tmp_path / "fresh-cache"))
    assert fresh.out.read_bytes() == again.out.read_bytes()
    assert not list((tmp_path / "cache" / "mezzanine").glob(f"*{mezzanine.SOUND}"))


def test_a_stitch_with_nothing_changed_makes_no_sound(make_media: MakeMedia, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clips = episode(make_media, tmp_path)
    first = stitch(clips, tmp_path / "ep.mp4", options(tmp_path / "cache"))
    runs = Runs(monkeypatch)
    again = stitch(clips, tmp_path / "again.mp4", options(tmp_path / "cache"))
    assert runs.sounds() == set() and runs.encodes == 0
    assert again.out.read_bytes() == first.out.read_bytes()


def test_a_longer_shot_moves_the_joins_after_it(make_media: MakeMedia, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A shot that grows moves every later clip to another place in the sound's packet grid:
    their joins are encoded again (and their clips' sound made), those before it are not."""
    clips = episode(make_media, tmp_path)
    stitch(clips, tmp_path / "ep.mp4", options(tmp_path / "cache"))
    longer = make_media("video", tmp_path / "long.mp4", width=160, height=120, seconds=2.5,
                        tone=1234)
    edited = [*clips[:3], Clip(longer), *clips[4:]]
    runs = Runs(monkeypatch)
    again = stitch(edited, tmp_path / "ep.mp4", options(tmp_path / "cache"))
    assert runs.sounds() == {"s2.mp4", "s4.mp4", "s5.mp4"}
    nothing_remembered(monkeypatch)  # from an empty cache, as a new process makes it
    fresh = stitch(edited, tmp_path / "fresh.mp4", options(tmp_path / "fresh-cache"))
    assert fresh.out.read_bytes() == again.out.read_bytes()


def test_at_a_loudness_target_an_edit_is_re_joined_only_where_it_changed(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default: a loudness target. The episode's loudness comes from each clip's kept
    readings (only the new shot is measured), its sound is spliced at the one gain that brings
    it there, and the edit keeps that gain (its shot sounds as loud as the one it replaces)."""
    # eight shots: with six, the new shot moved the episode's loudness enough that its one gain
    # changed and every clip's sound was made again (measured in the full suite)
    clips = episode(make_media, tmp_path, count=8)
    level = dataclasses.replace(options(tmp_path / "cache"), loudness=-16.0)
    first = stitch(clips, tmp_path / "ep.mp4", level)
    edited = [*clips[:3], Clip(shot(make_media, tmp_path, "new", 390, pattern="smptebars")),
              *clips[4:]]
    runs = Runs(monkeypatch)
    again = stitch(edited, tmp_path / "ep.mp4", level)
    assert any(w.startswith("preparing new.mp4") for w in runs.what)  # its mezzanine, made
    assert len([w for w in runs.what if w.startswith("measuring")]) == 1  # its loudness alone
    assert runs.sounds() == {"s2.mp4", "s4.mp4"} and runs.encodes == 3
    assert abs(integrated_loudness(again.out) - (-16.0)) <= 0.2
    assert abs(integrated_loudness(first.out) - (-16.0)) <= 0.2
    nothing_remembered(monkeypatch)  # from an empty cache, as a new process makes it
    fresh = stitch(edited, tmp_path / "fresh.mp4",
                   dataclasses.replace(options(tmp_path / "fresh-cache"), loudness=-16.0))
    assert fresh.out.read_bytes() == again.out.read_bytes()


def integrated_loudness(path: Path) -> float:
    log = ffmpeg.run(["-i", str(path), "-map", "0:a", "-af", "ebur128", "-f", "null", "-"])
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])
