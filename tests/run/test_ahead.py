"""Mezzanines made as shots arrive, transitions once an episode's shots are in: the stitch after a
render only copies them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.language.compile import compile_source
from storyboard.language.read.series import load_source
from storyboard.media import ffmpeg
from storyboard.run import pipeline
from storyboard.run.boards import ahead
from storyboard.run.setup import Callbacks, RenderFlags
from storyboard.stitch.join import mezzanine
from tests.fixtures.compiler import MIA_HEAD, write_series
from tests.fixtures.ffmpeg_runs import nothing_remembered

MakeMedia = Callable[..., Path]
HEAD = MIA_HEAD
EPISODE = """\
- id: one
  title_card: {text: "One", duration: 1}
  shots:
    - {id: a, prompt: '@mia waves'}
    - {id: b, prompt: '@mia smiles', transition: {type: crossfade, duration: 0.5}}
    - {id: c, prompt: '@mia nods', transition: {type: wipeleft, duration: 0.25}}
"""


def _render(tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch,
            head: str = HEAD) -> tuple[list[str], list[str]]:
    """(ffmpeg runs while stitching, episode states) of a draft render."""
    monkeypatch.chdir(tmp_path)
    series = write_series(tmp_path / "s", make_media, EPISODE, head=head)
    stitching: list[str] = []
    states: list[str] = []
    real = ffmpeg.run

    def spy(args: list[str], **kw: Any) -> str:
        if states and states[-1] == "stitching":
            outputs = sum(a.endswith(".adts") for a in args)
            stitching.append(kw.get("what", "") + (f" ({outputs} encodes)" if outputs else ""))
        return real(args, **kw)

    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", spy)
    pipeline.render_series(compile_source(load_source(series)), RenderFlags(draft=True, yes=True),
                           Callbacks(on_episode=lambda e: states.append(e.state)
                                     if e.progress is None else None))
    return stitching, states


def test_the_stitch_finds_every_mezzanine_made(tmp_path: Path, make_media: MakeMedia,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    stitching, states = _render(tmp_path, make_media, monkeypatch)
    assert states == ["stitching", "stitched"]
    # the mezzanines and the transitions were all made ahead: the stitch encodes no picture; it
    # makes each clip's sound (a render keeps none: StitchOptions.keep_sound), an audio pass each
    assert not [w for w in stitching if w.startswith(("preparing", "blending"))
                and not w.startswith("preparing the sound of")], stitching
    assert len([w for w in stitching if w.startswith("preparing the sound of")]) == 4
    kept = tmp_path / "s" / ".storyboard" / "stitch-cache" / "mezzanine"
    blends = set(kept.glob(f"*{mezzanine.BLEND_MARK}*.mp4"))  # the transitions (stitch.join.blends)
    assert blends and len(set(kept.glob("*.mp4")) - blends) == 4  # the title card, three shots


def test_a_failure_ahead_of_the_stitch_is_not_the_renders(
        tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> bool:
        raise OSError("disk trouble")

    monkeypatch.setattr(ahead, "prepare", broken)
    monkeypatch.setattr(ahead, "prepare_transitions", broken)
    stitching, states = _render(tmp_path, make_media, monkeypatch)
    assert states == ["stitching", "stitched"]
    assert len([w for w in stitching if w.startswith("preparing")]) == 4  # made by the stitch
    assert [w for w in stitching if w.startswith("blending")]  # the transitions too


def test_spliced_sound_is_encoded_ahead_and_the_stitch_only_encodes_its_joins(
        tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch) -> None:
    stitching, states = _render(tmp_path, make_media, monkeypatch,
                                head=HEAD + "output: {loudness: null}\n")
    assert states == ["stitching", "stitched"]
    kept = tmp_path / "s" / ".storyboard" / "stitch-cache" / "mezzanine"
    joins = list(kept.glob("*.j*.adts"))  # kept too (stitch.sound.splice.joint_name)
    assert len(joins) == 3  # between the title card and the three shots
    # the title card's and the three shots' sound
    assert len([p for p in kept.glob("*.adts") if p not in joins]) == 4
    sound = [w for w in stitching if w.startswith("encoding the sound")]
    assert sound == ["encoding the sound around the joins (3 encodes)"], stitching  # joins only
