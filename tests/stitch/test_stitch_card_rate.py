"""A title card takes the episode's frame rate from its first shot and never sets it: shots at
24 fps (HappyHorse's image-to-video, MiniMax's H3) make a 24 fps episode, their frames kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storyboard.language.compile import compile_path
from storyboard.media import ffmpeg
from storyboard.run.state.cache import OutputCache
from storyboard.stitch.series.cut import episode_cut
from storyboard.stitch.series.episodes import EpisodeBuilder
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
CARDED = """\
- id: ep01
  title_card: {text: "Episode 1", duration: 1}
  end_card: {text: "The End", duration: 1}
  shots:
    - {id: a, prompt: "@mia waves"}
    - {id: b, prompt: "@mia sits"}
"""


def rate(path: Path) -> float:
    info = ffmpeg.probe(path)
    assert info.video is not None
    return info.video.fps


def test_cards_take_the_first_shots_rate(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, CARDED, head=MIA_HEAD)
    manifest = compile_path(series)
    (episode,) = manifest.episodes
    shots = {shot.id: make_media("video", tmp_path / f"{shot.id}.mp4", width=320, height=180,
                                 seconds=2.0, fps=24) for shot in episode.shots}
    builder = EpisodeBuilder(manifest, tmp_path / "episodes", draft=True)
    card = builder.card(episode, "title_card")
    assert card is not None and rate(card) != 24  # the card alone is drawn at its own rate
    assert builder.first_clip(episode, shots) == shots["a"]
    assert builder.first_clip(episode, {"b": shots["b"]}) is None  # its format is not known yet
    clips = builder.clips(episode, shots)
    assert [c.card for c in clips] == [True, False, False, True]
    out = builder.build(episode, shots)
    assert out.state == "stitched", out
    assert rate(out.path) == 24
    frames = ffmpeg.stream_lengths(out.path)["video"] * 24
    assert round(frames) == 24 * (1 + 2 + 2 + 1)  # every second of the four clips, at 24 fps


def test_the_cut_counts_at_the_first_shots_rate(tmp_path: Path, make_media: MakeMedia) -> None:
    """The studio's and the exports' cut: a card rendered before any shot does not set it."""
    series = write_series(tmp_path / "s", make_media, CARDED, head=MIA_HEAD)
    manifest = compile_path(series)
    (episode,) = manifest.episodes
    cache = OutputCache(manifest.root, "key")
    builder = EpisodeBuilder(manifest, tmp_path / "episodes", draft=True)
    first = episode.shots[0]
    make_media("video", cache.path(first.hash), width=320, height=180, seconds=2.0, fps=24)
    cut = episode_cut(builder, episode, cache, render_cards=True)
    assert cut.items[0].path is not None and cut.items[0].path.is_file()
    assert cut.fps == 24
