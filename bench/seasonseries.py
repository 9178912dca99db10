"""A synthetic season into a folder: N episodes of M shots with looks, continuity and boards.

Shared by ``bench/season_scale.py`` and ``bench/studio_season.py``. Deterministic: the same
arguments write the same bytes. Every shot is a 3-second, one-line prompt that checks clean
(density on, no continuity contradiction): two characters with a look each over a range of
episodes, a place, two continuity facts, and a ``boards:`` block (one board per shot, gated).
"""

from __future__ import annotations

from pathlib import Path

SERIES = """\
storyboard: 1
title: Bench season
style: "soft watercolour, muted colours"
defaults:
  resolution: 720P
  ratio: "9:16"
  duration: 3
  prompt_extend: false
  watermark: false
  seed: 1234
lint: {{density: true}}
{provider}boards: {{model: wan2.7-image, takes: 1, gate: true}}
characters:
  nora:
    image: {{generate: "a lighthouse keeper in her forties, short grey hair, a wool sweater"}}
    looks:
      storm:
        image: {{generate: "the same keeper soaked by rain, a yellow oilskin over her sweater"}}
        episodes: "{storm}"
  eli:
    image: {{generate: "a fisherman in his thirties, a dark beard, a canvas coat"}}
    looks:
      hurt:
        image: {{generate: "the same fisherman, a bandage on his left arm"}}
        episodes: "{hurt}"
  lighthouse: {{image: {{generate: "a white lighthouse on a rocky point", kind: place}}}}
continuity:
  sweater: {{of: nora, is: blue}}
  lamp: {{is: lit, episodes: "2-"}}
episodes:
  - episodes/*.yaml
"""

ACTIONS = ("@nora climbs the spiral stairs of @lighthouse in her blue sweater",
           "@eli hauls a net onto the rocks below @lighthouse",
           "@nora looks out over the calm grey sea",
           "@eli waves up at the lamp",
           "@nora writes in her logbook by the window")


def make_season(root: Path, episodes: int, shots: int, provider: str = "") -> Path:
    """Write the season into ``root`` (created); return its series file. ``provider``: the
    series' provider (``dashscope``: its shots priced), else none (``local``)."""
    (root / "episodes").mkdir(parents=True, exist_ok=True)
    storm = f"{max(1, episodes // 2)}-{max(1, episodes // 2 + episodes // 4)}"
    hurt = f"{max(1, episodes - episodes // 5)}-"
    series = root / "storyboard.yaml"
    named = f"provider: {{name: {provider}}}\n" if provider else ""
    series.write_text(SERIES.format(storm=storm, hurt=hurt, provider=named), encoding="utf-8")
    for e in range(1, episodes + 1):
        episode_file(root, e, shots).write_text(episode_text(e, shots), encoding="utf-8")
    return series


def episode_file(root: Path, episode: int, shots: int = 0) -> Path:
    return root / "episodes" / f"{episode:03d}.yaml"


def episode_text(episode: int, shots: int) -> str:
    lines = [f"id: ep{episode:03d}", f"title: Night {episode}", "shots:"]
    for s in range(1, shots + 1):
        action = ACTIONS[(episode + s) % len(ACTIONS)]
        lines += [f"  - id: s{s:02d}", f'    prompt: "{action}, moment {s}"']
    return "\n".join(lines) + "\n"


def edit_one_line(root: Path, episode: int, shot: int, version: int) -> None:
    """One line of one episode changed: the shot's prompt says another moment."""
    path = episode_file(root, episode)
    text = path.read_text(encoding="utf-8")
    old = f", moment {shot}\"\n"
    assert old in text, (path, shot)
    path.write_text(text.replace(old, f", moment {shot} again {version}\"\n", 1), encoding="utf-8")
