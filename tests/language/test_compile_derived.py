"""A derived take's request, compiled in the language (issue 66, item 3): a pass over a rendered
take's file, hashed by both inputs, with nothing of the run (the language contract holds it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storyboard.language.derived import ADAPTIVE, Pass, derived_take
from storyboard.language.request import CompiledShot
from storyboard.language.variations import compile_variations
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]


def _shot(tmp_path: Path, make_media: MakeMedia) -> CompiledShot:
    series = write_series(tmp_path / "s", make_media, """\
        - id: ep01
          shots:
            - {id: a, prompt: "@mia waves"}
        """, head=MIA_HEAD)
    [shot] = [s for s in compile_variations(series).shots() if s.id == "a"]
    return shot


def test_an_edit_is_the_parents_size_and_length_with_the_words_alone(
        tmp_path: Path, make_media: MakeMedia) -> None:
    parent = _shot(tmp_path, make_media)
    video = tmp_path / "parent.mp4"
    made = derived_take(parent, parent, 2, Pass("edit", "wan2.7-videoedit", "make it rain"),
                        video, "a" * 64)
    assert made.id == "a#2" and made.take == 2 and not made.needs and not made.others
    assert made.request.prompt == "make it rain" and made.request.model == "wan2.7-videoedit"
    assert (made.request.duration, made.request.resolution, made.request.ratio) == (
        parent.request.duration, parent.request.resolution, parent.request.ratio)
    assert [item.role for item in made.request.media] == ["source_video"]
    assert made.inputs == {str(video): "a" * 64}
    own = derived_take(parent, parent, 2, Pass("edit", "seedance", "make it rain",
                                               own_editor=True), video, "a" * 64)
    assert own.request.ratio == ADAPTIVE


def test_the_hash_is_both_inputs_by_content(tmp_path: Path, make_media: MakeMedia) -> None:
    parent = _shot(tmp_path, make_media)
    video, track = tmp_path / "parent.mp4", tmp_path / "line.wav"

    def lipsync(video_sha: str, track_sha: str) -> str:
        asked = Pass("lipsync", "videoretalk", track=track, track_sha256=track_sha)
        return derived_take(parent, parent, 2, asked, video, video_sha).hash

    first = lipsync("a" * 64, "b" * 64)
    assert first == lipsync("a" * 64, "b" * 64)  # the same pass over the same take
    assert len({first, lipsync("c" * 64, "b" * 64), lipsync("a" * 64, "d" * 64)}) == 3
    edit = derived_take(parent, parent, 2, Pass("edit", "wan2.7-videoedit", "rain"), video,
                        "a" * 64)
    assert edit.hash != derived_take(parent, parent, 2, Pass("edit", "wan2.7-videoedit", "snow"),
                                     video, "a" * 64).hash
