"""A drawing made once a process (``animatic/clip.py: drawing_key``): the same spec over the
same bytes, in another folder, is a copy of the clip drawn before, byte for byte; other bytes
in a file it reads, another spec, or the earlier clip changed or gone, and it is drawn again."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.animatic.clip import drawing_key, render, render_picture
from storyboard.animatic.draw import Animatic, Sound, Thumbnail, TimedText
from storyboard.media import ffmpeg, samples
from tests.fixtures.ffmpeg_runs import runs_with


def spec_in(folder: Path, make_media: Any) -> Animatic:
    """A 2 s still clip at 12 fps over a picture and a voice of ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    image = make_media("image", folder / "mia.png", width=320, height=180)
    voice = make_media("voice", folder / "voice.wav", seconds=1.0)
    return Animatic(320, 180, 2.0, 12, thumbnails=(Thumbnail(image, "mia"),),
                    texts=(TimedText("Mia looks up", 0.0, 2.0),), sounds=(Sound(voice, 0.5, 1.0),))


def moved_to(spec: Animatic, folder: Path) -> Animatic:
    """``spec`` over copies of its files in ``folder``: other paths, the same bytes."""
    folder.mkdir(parents=True)
    image, voice = spec.thumbnails[0].path, spec.sounds[0].path
    for path in (image, voice):
        shutil.copyfile(path, folder / path.name)
    return replace(spec, thumbnails=(Thumbnail(folder / image.name, "mia"),),
                   sounds=(Sound(folder / voice.name, 0.5, 1.0),))


def test_the_same_drawing_for_another_folder_is_a_copy_of_the_first(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    drawings = runs_with(monkeypatch, ffmpeg.PORTABLE_ARGS[0])
    spec = spec_in(tmp_path / "a", make_media)
    first = tmp_path / "a" / "shot.mp4"
    render(spec, first)
    assert drawings, "the first is drawn"
    drawn = len(drawings)
    other = moved_to(spec, tmp_path / "b")
    assert drawing_key(other) == drawing_key(spec)
    copy = tmp_path / "b" / "shot.mp4"
    render(other, copy)
    assert len(drawings) == drawn and copy.read_bytes() == first.read_bytes()
    render(replace(other, texts=(TimedText("Mia looks away", 0.0, 2.0),)), tmp_path / "b" / "x.mp4")
    assert len(drawings) > drawn, "another spec is drawn"


def test_other_bytes_or_a_changed_first_clip_are_drawn_again(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    drawings = runs_with(monkeypatch, ffmpeg.PORTABLE_ARGS[0])
    spec = spec_in(tmp_path / "a", make_media)
    first = tmp_path / "a" / "shot.mp4"
    render(spec, first)
    drawn = len(drawings)
    other = moved_to(spec, tmp_path / "b")
    samples.image(other.thumbnails[0].path, 320, 180, color="red")  # the same name, other bytes
    assert drawing_key(other) != drawing_key(spec)
    render(other, tmp_path / "b" / "shot.mp4")
    assert len(drawings) > drawn
    drawn = len(drawings)
    first.write_bytes(first.read_bytes()[:-1])  # the first clip is not what it drew any more
    again = moved_to(spec, tmp_path / "c")
    render(again, tmp_path / "c" / "shot.mp4")
    assert len(drawings) > drawn
    first.unlink()
    drawn = len(drawings)
    render(moved_to(spec, tmp_path / "d"), tmp_path / "d" / "shot.mp4")  # the copy above serves
    assert len(drawings) == drawn
    assert (tmp_path / "d" / "shot.mp4").read_bytes() == (tmp_path / "c" / "shot.mp4").read_bytes()


def test_a_picture_is_drawn_once_too(tmp_path: Path, make_media: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    drawings = runs_with(monkeypatch, ffmpeg.PORTABLE_ARGS[0])
    spec = spec_in(tmp_path / "a", make_media)
    render_picture(spec, tmp_path / "a" / "frame.png")
    drawn = len(drawings)
    render_picture(moved_to(spec, tmp_path / "b"), tmp_path / "b" / "frame.png")
    assert len(drawings) == drawn == 1
    assert (tmp_path / "b" / "frame.png").read_bytes() == (tmp_path / "a" / "frame.png").read_bytes()
