"""A mezzanine made once a process (``mezzanine._copied``, ``media.memo.made``): a second folder
that asks for the same key gets a copy of the files the first stitch wrote, not a second encode,
and the same episode bytes; a mezzanine changed since it was made, or a memo emptied, is encoded
again."""

from __future__ import annotations

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


def options(folder: Path, *, keep_sound: bool = True) -> StitchOptions:
    return StitchOptions(loudness=None, cache_dir=folder, keep_sound=keep_sound,
                         preset="ultrafast", width=160, height=120, fps=30)


def clips(make_media: MakeMedia, folder: Path) -> list[Clip]:
    """Three shots, the last two crossfaded: every shot is encoded into a mezzanine."""
    files = [make_media("video", folder / f"m{i}.mp4", width=176, height=144, seconds=1.5,
                        tone=300 + 50 * i) for i in range(3)]
    return [Clip(f, Transition("crossfade", 0.5) if i == 2 else Transition())
            for i, f in enumerate(files)]


def what_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each ffmpeg run from now on is for (each still run)."""
    real = ffmpeg.run
    seen: list[str] = []

    def run(args: Sequence[str], **kw: Any) -> str:
        seen.append(str(kw.get("what", "")))
        return real(args, **kw)
    monkeypatch.setattr(ffmpeg, "run", run)
    return seen


def encodes(seen: list[str]) -> list[str]:
    return [w for w in seen if w.endswith("for the episode format")]


def sound_passes(seen: list[str]) -> list[str]:
    return [w for w in seen if w.startswith("preparing the sound of")]


def test_a_second_folder_copies_what_the_first_made_and_writes_the_same_bytes(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nothing_remembered(monkeypatch)
    shots = clips(make_media, tmp_path)
    seen = what_runs(monkeypatch)
    first = stitch(shots, tmp_path / "a.mp4", options(tmp_path / "a"))
    assert len(encodes(seen)) == 3
    seen.clear()
    second = stitch(shots, tmp_path / "b.mp4", options(tmp_path / "b"))
    assert encodes(seen) == [] and sound_passes(seen) == []  # copied, sound and all
    assert second.out.read_bytes() == first.out.read_bytes()
    copies = sorted(p.name for p in (tmp_path / "b" / "mezzanine").glob("*.mp4")
                    if mezzanine.BLEND_MARK not in p.name)
    made = sorted(p.name for p in (tmp_path / "a" / "mezzanine").glob("*.mp4")
                  if mezzanine.BLEND_MARK not in p.name)
    assert copies == made and len(made) == 3
    nothing_remembered(monkeypatch)  # a process that remembers nothing encodes them again
    seen.clear()
    third = stitch(shots, tmp_path / "c.mp4", options(tmp_path / "c"))
    assert len(encodes(seen)) == 3 and third.out.read_bytes() == first.out.read_bytes()


def test_a_mezzanine_changed_since_it_was_made_is_encoded_again(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nothing_remembered(monkeypatch)
    shots = clips(make_media, tmp_path)
    first = stitch(shots, tmp_path / "a.mp4", options(tmp_path / "a"))
    videos = sorted(p for p in (tmp_path / "a" / "mezzanine").glob("*.mp4")
                    if mezzanine.BLEND_MARK not in p.name)
    videos[0].write_bytes(b"not a video")  # someone's edit: never copied into another folder
    seen = what_runs(monkeypatch)
    second = stitch(shots, tmp_path / "b.mp4", options(tmp_path / "b"))
    assert len(encodes(seen)) == 1  # that one alone; the two unchanged are copies
    assert second.out.read_bytes() == first.out.read_bytes()


def test_a_render_style_stitch_copies_the_video_and_makes_only_the_sound(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nothing_remembered(monkeypatch)
    shots = clips(make_media, tmp_path)
    first = stitch(shots, tmp_path / "a.mp4", options(tmp_path / "a", keep_sound=False))
    seen = what_runs(monkeypatch)
    second = stitch(shots, tmp_path / "b.mp4", options(tmp_path / "b", keep_sound=False))
    # the first stitch's sound went with its work folder: the video is copied, the sound alone
    # is made (an audio pass), each clip's once
    assert encodes(seen) == [] and len(sound_passes(seen)) == 3
    assert second.out.read_bytes() == first.out.read_bytes()
