"""Bounded slots (issue 84): each season episode is one call asking exactly what the skeleton
needs (K shots: minItems = maxItems = K; every string its maxLength; every line range inside the
episode's), under the endpoint's strongest structured-output mode; the skeleton is computed
(K shots of d seconds; the story cut on its own units), never read from the outline's beats.
Against a chat server on loopback whose answers are the emulator's stand-in's, scripted."""

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
        outlines = [b for b in server.bodies if stage_of(b) == "outline"]
    assert report.problems == [], [d.format() for d in report.problems]
    assert outlines == []  # a season is cut from the story: its outline is not even asked
    made = skeleton.shape(30.0)
    assert made == skeleton.Shape(5, 6, 30.0)
    assert len(list((series / "episodes").glob("*.yaml"))) == 4
    assert seconds(series) == [made.total] * 4
    assert len(asked) == 4  # one call an episode, and no season call


def test_each_episodes_request_carries_its_bounds_in_its_schema(tmp_path: Path) -> None:
    with Scripted(one_beat) as server:
        breakdown(story(tmp_path, FROG), tmp_path / "series", options(server.base_url))
        asked = [b for b in server.bodies if stage_of(b) == "episode"]
    firsts = []
    for body in asked:
        schema = body["response_format"]["json_schema"]["schema"]
        shots = schema["properties"]["shots"]
        assert shots["minItems"] == shots["maxItems"] == 5
        assert schema["properties"]["title"]["maxLength"] == 60
        assert schema["properties"]["hook"]["maxLength"] == 300
        shot = shots["items"]["properties"]
        document = json.loads(body["messages"][1]["content"])
        numbers = [n for n, _ in document["lines"]]
        assert shot["from_line"]["minimum"] == shot["to_line"]["minimum"] == numbers[0]
        assert shot["from_line"]["maximum"] == shot["to_line"]["maximum"] == numbers[-1]
        scene = shot["scenes"]["items"]["properties"]
        assert scene["action"]["maxLength"] == 400 and scene["seconds"]["maximum"] == 6
        assert scene["lines"]["items"]["properties"]["quote"]["maxLength"] == 600
        assert "shots: exactly 5 items" in body["messages"][0]["content"]
        firsts.append(numbers[0])
    assert firsts == sorted(set(firsts)) and len(firsts) == 4  # contiguous segments, in order


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
        asked = [b for b in server.bodies if stage_of(b) == "episode"]
    assert report.problems == []
    formats = [b["response_format"] for b in asked]
    assert all(f["type"] == "json_object" for f in formats), formats
    assert all(f["schema"]["properties"]["shots"]["minItems"] == 5 for f in formats)


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
        if stage_of(body) == "episode" and first:
            for shot in content["shots"]:
                for scene in shot["scenes"]:
                    for line in scene["lines"]:
                        line["speaker"] = "Hansel" if line["speaker"] == "Gretel" else "Gretel"
        return completion(json.dumps(content))

    with Scripted(unfaithful) as server:
        report = breakdown(story(tmp_path, WOODS), tmp_path / "series",
                           options(server.base_url, episodes=2))
        backs = {stage_of(b): b["messages"][-1]["content"] for b in server.bodies
                 if len(b["messages"]) > 2}
    assert report.problems == [], [d.format() for d in report.problems]
    assert "characters: 'Gretel' speaks in this chapter (line 5) and is not in the cast" in \
        backs["cast"]
    assert "but the story says Gretel says 'Now, how are we to get out of the forest?'" in \
        backs["episode"] or "but the story says Hansel says 'Just wait a little" in \
        backs["episode"], backs["episode"]
    cast = yaml.safe_load((tmp_path / "series" / "storyboard.yaml").read_text("utf-8"))
    assert "gretel" in cast["characters"]
