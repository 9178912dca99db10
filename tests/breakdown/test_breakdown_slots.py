"""Bounded slots (issue 84): each season episode is asked as one call for its title and hook and
one call a shot, each over the shot's own run of the episode's lines, asking exactly what the
skeleton needs (every string its maxLength; each scene's seconds within the shot's d; each quote
one of those its lines offer, an ``enum``), under the endpoint's strongest structured-output
mode; the skeleton is computed (K shots of d seconds; the story cut on its own units), never read
from the outline's beats. Against a chat server on loopback whose answers are the emulator's
stand-in's, scripted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.breakdown.shape import skeleton
from storyboard.breakdown.shape.cutting import balanced, level, units
from storyboard.breakdown.source import read_story
from storyboard.emulator.chat import episode as chat_episode
from tests.breakdown.scripted import Reply, Scripted, completion, stage_of
from tests.fixtures.breakdown import KEY_ENV, story

# Grimm, "The Frog-King" (Margaret Hunt's translation, 1884), its opening, shortened
FROG = """\
# The Frog-King

In olden times when wishing still helped one, there lived a king whose daughters were all beautiful.

Hard by the king's castle lay a great dark forest, and under an old lime-tree in the forest was a well.

When the day was very warm, the king's child went out into the forest and sat down by the
cool fountain.

She had a golden ball, and when she was bored she took it and threw it up on high and caught it.

"What ails you, king's daughter?" said the frog. "You weep so that even a stone would show pity."

"Ah! old water-splasher, is it you?" said she; "I am weeping for my golden ball."
"""


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def options(base: str, **changes: Any) -> Options:
    settings: dict[str, Any] = {"base_url": base, "key_env": KEY_ENV, "yes": True,
                                "stream": "false", "episodes": 4, "episode_seconds": 30.0}
    return Options(**{**settings, **changes})


def one_beat(body: dict[str, Any]) -> Reply:
    """The stand-in's answers, but every outline one beat retelling the whole chapter (the
    35-line Grimm tale's outline of issue 84)."""
    content = json.loads(chat_episode.content_of(body))
    if stage_of(body) == "outline":
        content["beats"] = ["The king's daughter loses her golden ball and meets a frog."]
    return completion(json.dumps(content))


def seconds(series: Path) -> list[int]:
    return [sum(shot["duration"] for shot in yaml.safe_load(path.read_text("utf-8"))["shots"])
            for path in sorted((series / "episodes").glob("*.yaml"))]


def test_an_outline_of_one_beat_still_makes_every_episode_asked_each_of_k_shots_of_d_seconds(
        tmp_path: Path) -> None:
    series = tmp_path / "series"
    with Scripted(one_beat) as server:
        report = breakdown(story(tmp_path, FROG), series, options(server.base_url))
        asked = [b for b in server.bodies if stage_of(b) == "episode"]
        shots = [b for b in server.bodies if stage_of(b) == "shot"]
        outlines = [b for b in server.bodies if stage_of(b) == "outline"]
    assert report.problems == [], [d.format() for d in report.problems]
    assert outlines == []  # a season is cut from the story: its outline is not even asked
    made = skeleton.shape(30.0)
    assert made == skeleton.Shape(5, 6, 30.0)
    assert len(list((series / "episodes").glob("*.yaml"))) == 4
    assert seconds(series) == [made.total] * 4
    assert len(asked) == 4 and len(shots) == 4 * made.shots  # a call an episode, one a shot


def test_each_shots_request_carries_its_bounds_and_its_quotes_in_its_schema(
        tmp_path: Path) -> None:
    with Scripted(one_beat) as server:
        breakdown(story(tmp_path, FROG), tmp_path / "series", options(server.base_url))
        heads = [b for b in server.bodies if stage_of(b) == "episode"]
        asked = [b for b in server.bodies if stage_of(b) == "shot"]
    for body in heads:
        schema = body["response_format"]["json_schema"]["schema"]
        assert sorted(schema["properties"]) == ["hook", "title"]
    spans, quotes = [], set()
    for body in asked:
        schema = body["response_format"]["json_schema"]["schema"]
        assert sorted(schema["properties"]) == ["camera", "cast", "scenes"]
        scene = schema["properties"]["scenes"]["items"]["properties"]
        assert scene["action"]["maxLength"] == chat_episode.ACTION_CHARS == 160
        assert scene["seconds"]["maximum"] == 6
        document = json.loads(body["messages"][1]["content"])
        offered = document["shot"]["quotes"]
        if offered:
            assert scene["lines"]["items"]["properties"]["quote"] == {"enum": offered}
        else:  # narration is no line: a shot over lines that quote no one may give none
            assert scene["lines"]["maxItems"] == 0
        quotes.update(offered)
        spans.append((document["shot"]["number"], [n for n, _ in document["lines"]]))
        assert "scenes[].lines[].quote: one of shot.quotes, exactly" in \
            body["messages"][0]["content"] or not offered
    # the frog's and the princess's words are offered where their lines are filmed, whole
    assert "What ails you, king's daughter?" in quotes
    assert "You weep so that even a stone would show pity." in quotes
    assert "I am weeping for my golden ball." in quotes
    assert [n for n, _ in spans] == [1, 2, 3, 4, 5] * 4
    firsts = [lines[0] for _, lines in spans]
    assert firsts == sorted(firsts)  # each shot's own run of lines, in story order


def test_a_server_that_refuses_json_schema_is_asked_in_json_object_with_the_schema(
        tmp_path: Path) -> None:
    """llama-cpp-python's server refuses json_schema (HTTP 500) and holds a json_object answer
    to the schema it is given: the bounded schema goes there."""
    def server_of(body: dict[str, Any]) -> Reply:
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return 500, {"error": {"message": "Input should be 'text' or 'json_object'"}}
        return one_beat(body)

    with Scripted(server_of) as server:
        report = breakdown(story(tmp_path, FROG), tmp_path / "series", options(server.base_url))
        asked = [b for b in server.bodies if stage_of(b) == "shot"]
    assert report.problems == []
    formats = [b["response_format"] for b in asked]
    assert all(f["type"] == "json_object" for f in formats), formats
    assert all(f["schema"]["properties"]["scenes"]["minItems"] == 1 for f in formats)


def test_the_shape_of_an_episode_is_the_closest_whole_shots_of_the_models_durations() -> None:
    assert skeleton.durations() == tuple(range(2, 16))  # wan2.7-r2v: every second of 2..15
    assert skeleton.shape(90) == skeleton.Shape(15, 6, 90.0)
    assert skeleton.shape(None) == skeleton.Shape(10, 6, 60.0)
    assert skeleton.shape(7, (6, 10)) == skeleton.Shape(1, 6, 7.0)  # 6 is within 20 % of 7
    assert skeleton.shape(3, (6, 10)) == ("an episode of 3 s cannot be filmed in shots of 6, 10 "
                                          "s within 20% of it (at most 40 shots, 400 s, an "
                                          "episode): ask for 6 to 400 seconds an episode "
                                          "(--episode-seconds)")


def test_a_story_is_cut_on_the_coarsest_units_that_give_enough_balanced_by_length(
        tmp_path: Path) -> None:
    tale = read_story(story(tmp_path, FROG))
    assert level(tale, 1) == "chapter" and level(tale, 6) == "paragraph"
    assert level(tale, 7) == "sentence"  # 6 paragraphs, 8 sentences
    found = units(tale, "paragraph")
    cut = balanced(found, 3)
    assert [b - a + 1 for a, b in cut] == [2, 2, 2]
    lengths = [sum(len(u.text) for u in found[a:b + 1]) for a, b in cut]
    assert max(lengths) < 2 * min(lengths)
    sentences = units(tale, "sentence")
    assert [(u.ref, u.start, u.end, u.text) for u in sentences[5:7]] == [
        ("1.6", (12, 34), (12, 48), "said the frog."),
        ("1.7", (12, 49), (12, 97), '"You weep so that even a stone would show pity."')]
    assert level(tale, 9) == "sentence"  # a cut may fall inside a line: 9 episodes of 10


# Grimm, "Hansel and Gretel" (Margaret Hunt's translation, 1884), a few lines, shortened
WOODS = """\
# The Woods

Hansel and Gretel sat by the fire in the middle of the forest.

"Now, how are we to get out of the forest?" asked Gretel, and she wept bitterly.

"Just wait a little, until the moon has risen," said Hansel, "and then we will soon find the way."

When the full moon had risen, Hansel took his little sister by the hand.
"""


def test_a_cast_that_leaves_out_a_speaker_and_a_line_given_to_another_are_sent_back(
        tmp_path: Path) -> None:
    """Issue 84's faithfulness, as a person would check it: a girl who speaks half the
    chapter's lines missing from the cast; a line given to the wrong one where the text says who
    says it. Each is sent back to the model, with the line it is on."""
    def unfaithful(body: dict[str, Any]) -> Reply:
        content = json.loads(chat_episode.content_of(body))
        first = len(body["messages"]) == 2
        if stage_of(body) == "cast" and first:
            content["characters"] = [c for c in content["characters"] if c["name"] != "Gretel"]
        if stage_of(body) == "shot" and first:
            for scene in content["scenes"]:
                for line in scene["lines"]:
                    line["speaker"] = "Hansel" if line["speaker"] == "Gretel" else "Gretel"
        return completion(json.dumps(content))

    with Scripted(unfaithful) as server:
        report = breakdown(story(tmp_path, WOODS), tmp_path / "series",
                           options(server.base_url, episodes=2))
        backs: dict[str, str] = {}
        for b in server.bodies:
            if len(b["messages"]) > 2:
                backs[stage_of(b)] = backs.get(stage_of(b), "") + b["messages"][-1]["content"]
    assert report.problems == [], [d.format() for d in report.problems]
    assert "characters: 'Gretel' speaks in this chapter (line 5) and is not in the cast" in \
        backs["cast"]
    assert "but the story says Gretel says 'Now, how are we to get out of the forest?'" in \
        backs["shot"] or "but the story says Hansel says 'Just wait a little" in \
        backs["shot"], backs["shot"]
    cast = yaml.safe_load((tmp_path / "series" / "storyboard.yaml").read_text("utf-8"))
    assert "gretel" in cast["characters"]


def test_a_hook_past_its_bound_after_its_send_backs_is_cut_and_the_episode_written(
        tmp_path: Path) -> None:
    """An episode's own call sends no bounds (as every stage but a shot's): a hook of 520
    characters on every turn (Qwen2.5-Coder-1.5B wrote one of 400 on The Cask of Amontillado)
    is sent back, then read cut at a sentence, said, and the episode written."""
    long = " ".join(["The well is deep and the golden ball lies at its bottom."] * 9)

    def long_hooks(body: dict[str, Any]) -> Reply:
        content = json.loads(chat_episode.content_of(body))
        if stage_of(body) == "episode":
            content["hook"] = long
        return completion(json.dumps(content))

    series = tmp_path / "series"
    with Scripted(long_hooks) as server:
        report = breakdown(story(tmp_path, FROG), series, options(server.base_url))
        backs = [b for b in server.bodies if stage_of(b) == "episode" and len(b["messages"]) > 2]
    assert report.problems == [], [d.format() for d in report.problems]
    assert len(backs) == 4 * 2  # each episode's hook sent back twice, then read as meant
    hooks = [yaml.safe_load(p.read_text("utf-8"))["hook"]
             for p in sorted((series / "episodes").glob("*.yaml"))]
    assert len(hooks) == 4 and all(len(h) <= 300 and long.startswith(h.rstrip("…"))
                                   for h in hooks), hooks
    assert any("hook" in note and "cut" in note for note in report.notes), report.notes
