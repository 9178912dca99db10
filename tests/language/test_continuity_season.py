"""A season's lints (issue 67 items 3 and 8): the ``continuity:`` facts held against each shot's
words in their episodes (``lint-continuity``), a fact's own errors at its line, and each scene's
density, seconds per load point with the figure (``lint-density``, opt-in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import storyboard
from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.compile import compile_path
from storyboard.language.lint import density

HEAD = """\
storyboard: 1
title: Facts
defaults: {resolution: 720P, ratio: "9:16", duration: 5}
characters:
  ada: {image: {generate: "a young woman"}, looks: {rain: {image: {generate: "soaked"}}}}
  bo: {image: {generate: "an old man"}}
continuity:
  sweater: {of: ada, is: blue, episodes: "1-2"}
  sweater-later: {of: ada, thing: sweater, is: red, episodes: "3-"}
  door: {thing: front door, is: [open, green]}
episodes:
"""


def series(root: Path, episodes: list[list[str]], head: str = HEAD) -> Path:
    text = head
    for number, prompts in enumerate(episodes, 1):
        text += f"  - id: ep{number}\n    shots:\n"
        text += "".join(f'      - {{id: s{i}, prompt: "{p}"}}\n' for i, p in enumerate(prompts))
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


def coded(found: list[Diagnostic], code: str) -> list[tuple[int, int, str]]:
    return [(d.span.line, d.span.col, d.message) for d in found if d.code == code and d.span]


def column(root: Path, line: int, word: str) -> int:
    return (root / "storyboard.yaml").read_text("utf-8").splitlines()[line - 1].index(word) + 1


def test_a_shot_contradicting_a_fact_in_its_range_is_warned_at_the_word(tmp_path: Path) -> None:
    root = series(tmp_path / "s", [
        ["@ada pulls on her blue sweater and waves at @bo"],
        ["@ada, in her red sweater, waves at @bo", "@bo in a red sweater nods at @ada"],
        ["@ada, in her red sweater, waves at @bo", "@ada's sweater, now navy, is wet"],
        ["@ada.base in her green sweater waves"],
    ])
    found = coded(storyboard.check(root), "lint-continuity")
    assert [(line, col) for line, col, _ in found] == [
        (17, column(root, 17, "red")),  # episode 2: blue there
        (22, column(root, 22, "navy")),  # episode 3: red there (navy is a blue)
        (25, column(root, 25, "green")),  # @ada.base is @ada wearing her own picture
    ]
    assert found[0][2].startswith(
        "'red' sweater here, in episode 2, but continuity 'sweater' says ada's sweater is blue "
        "in episodes 1-2: describe it alike, or change the fact")
    assert "lint: {continuity: false}" in found[0][2]
    # "@bo in a red sweater": bo's, not ada's; episode 1's blue sweater agrees


def test_a_fact_of_anyones_thing_reads_every_word_and_every_kind(tmp_path: Path) -> None:
    root = series(tmp_path / "s", [["@ada opens the front door, painted green", "@bo shuts the "
                                    "closed front door", "@ada walks past the red front door"]])
    found = coded(storyboard.check(root), "lint-continuity")
    assert [(line, col) for line, col, _ in found] == [(15, column(root, 15, "closed")),
                                                      (16, column(root, 16, "red"))]
    assert "the front door is green, open in episodes 1-" in found[0][2]


def test_the_lint_is_switched_off_by_lint(tmp_path: Path) -> None:
    shots = [["@ada waves at @bo"], ["@ada, in her red sweater, waves at @bo"]]
    assert len(coded(storyboard.check(series(tmp_path / "on", shots)), "lint-continuity")) == 1
    head = HEAD.replace("continuity:\n", "lint: {continuity: false}\ncontinuity:\n")
    found = storyboard.check(series(tmp_path / "off", shots, head=head))
    assert [d.code for d in found] == ["look-unworn"]  # HEAD's rain look: no lint at all


@pytest.mark.parametrize(("old", "new", "said"), [
    ("{of: ada, is: blue", "{of: adda, is: blue",
     "8:17: unknown character 'adda' (did you mean 'ada'?); expected whose sweater it is"),
    ('episodes: "1-2"', 'episodes: "2-1"',
     "8:42: continuity 'sweater': episodes '2-1': '2-1' is not a range"),
    ('episodes: "3-"', 'episodes: "2-"',
     "9:48: continuity 'sweater-later' says sweater is red in episode 2, where 'sweater' says "
     "blue; expected ranges that do not overlap"),
], ids=["owner", "range", "clash"])
def test_a_bad_fact_is_an_error_at_its_line(tmp_path: Path, old: str, new: str,
                                            said: str) -> None:
    root = series(tmp_path / "s", [["@ada waves at @bo"]], head=HEAD.replace(old, new, 1))
    with pytest.raises(ProblemsFound) as raised:
        compile_path(root)
    found = [f"{d.span.line}:{d.span.col}: {d.message}" for d in raised.value.diagnostics
             if d.span and d.severity == "error"]
    assert any(line.startswith(said) for line in found), found


def test_chain_boards_hands_each_episodes_last_board_to_the_next_ones_first(
        tmp_path: Path) -> None:
    head = HEAD.replace("continuity:\n", "boards: {model: wan2.7-image}\ncontinuity:\n"
                        "  chain_boards: true\n")
    root = series(tmp_path / "s", [["@ada waves at @bo", "@bo nods"], ["@ada runs"]],
                  head=head)
    boards = {a.id: a for a in compile_path(root).cast if a.episode == "boards"}
    refs = {name: [r.asset for r in b.asset.refs] for name, b in boards.items() if b.asset}
    assert refs == {"ep1/s0": ["cast/ada", "cast/bo"], "ep1/s1": ["cast/bo"],
                    "ep2/s0": ["cast/ada", "boards/ep1/s1"]}
    assert boards["ep2/s0"].needs["boards/ep1/s1"] == boards["ep1/s1"].hash
    assert "Keep the look of the previous frame (image 2)." in boards["ep2/s0"].request.prompt
    unchained = series(tmp_path / "u", [["@ada waves at @bo", "@bo nods"], ["@ada runs"]],
                       head=head.replace("  chain_boards: true\n", ""))
    board = next(a for a in compile_path(unchained).cast if a.id == "ep2/s0")
    assert board.asset is not None and [r.asset for r in board.asset.refs] == ["cast/ada"]


# --- density ------------------------------------------------------------------------------------

DENSE = """\
storyboard: 1
title: Dense
defaults: {resolution: 720P, ratio: "9:16", duration: 6}
lint: {density: true}
voices:
  v: {design: "a calm voice", sample: "Hello there, how are you doing today?"}
characters:
  ada: {image: {generate: "a young woman"}, voice: v}
  bo: {image: {generate: "an old man"}}
  pier: {image: {generate: "a wooden pier", kind: place}}
  shop: {image: {generate: "a bait shop", kind: place}}
  net: {image: {generate: "a fishing net", kind: prop}}
episodes:
  - id: ep1
    shots:
      - id: calm
        prompt: "@ada mends @net on @pier"
      - id: packed
        scenes:
          - at: 0-6s
            action: "Slow pan: @ada runs along @pier. She stops. She turns to @bo."
            say: {ada: "I have waited for you all day long, and you never came back to me."}
      - id: moving
        duration: 8
        scenes:
          - {at: 0-4s, action: "@bo waits on @pier"}
          - {at: 4-8s, action: "@bo walks into @shop, the camera tracking him"}
      - id: cjk
        scenes:
          - at: 0-3s
            say: {ada: "我等了你一整天，你却一直没有回来，我真的很难过。"}
"""


def test_a_dense_scene_is_warned_at_its_line_with_its_figure(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    (root / "storyboard.yaml").write_text(DENSE, encoding="utf-8")
    found = coded(storyboard.check(root), "lint-density")
    assert [(line, col) for line, col, _ in found] == [(20, 13), (27, 13), (30, 13)]
    assert found[0][2] == (
        "this scene is 6 s for 6.38 load points (3 beats, 15 spoken words 1.88, 1 more acting "
        "principal 1, 1 camera move 0.5): 0.94 s a point, under 2 s a point lines garble; "
        "expected more seconds, fewer words, or two shots; or switch this lint off with "
        "lint: {density: false}")
    assert found[1][2].startswith("this scene is 4 s for 3.50 load points (1 beat, 1 change of "
                                  "place 2, 1 camera move 0.5): 1.14 s a point")
    assert found[2][2].startswith("this scene is 3 s for 2.75 load points (1 beat, 21 spoken "
                                  "words 1.75): 1.09 s a point")  # 21 characters (and 3 marks)
    # calm: 6 s, 1 beat, one acting principal (the net is a prop, the pier a place): 6 s a point


def test_density_is_off_unless_asked_for(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    (root / "storyboard.yaml").write_text(DENSE.replace("lint: {density: true}\n", ""), "utf-8")
    assert coded(storyboard.check(root), "lint-density") == []


@pytest.mark.parametrize(("text", "points"), [
    ("one two three four five six seven eight", 1.0),
    ("我等了你一整天你却一直没有", 13 / 12),
    ("Don't wait: 3 o'clock", 4 / 8),
])
def test_a_lines_points(text: str, points: float) -> None:
    assert density.spoken_points(text) == pytest.approx(points)


@pytest.mark.parametrize(("text", "count"), [
    ("@ada waves.", 1), ("", 1), ("She stops. She turns! Why? ", 3), ("Dr. No", 2),
])
def test_a_beat_is_a_sentence_of_action(text: str, count: int) -> None:
    assert density.beats(text) == count


def test_a_run_on_action_weighs_its_words_past_its_beats(tmp_path: Path) -> None:
    """One sentence of 54 words is one beat, and 4.75 points of words past the 16 it carries; as
    many words in short sentences are beats instead."""
    run_on = " ".join(["@ada climbs the endless stairs while the wind howls"] * 6)
    assert density.beats(run_on) == 1 and density.acted_points(run_on) == 4.75
    assert density.acted_points("She stops. She turns.") == 0
    root = tmp_path / "d"
    root.mkdir()
    (root / "storyboard.yaml").write_text(DENSE.replace(
        '"@ada mends @net on @pier"', json.dumps(run_on)), encoding="utf-8")
    found = coded(storyboard.check(root), "lint-density")
    assert found[0][2].startswith("this scene is 6 s for 5.75 load points (1 beat, words of "
                                  "action past its beats 4.75): 1.04 s a point"), found[0]
