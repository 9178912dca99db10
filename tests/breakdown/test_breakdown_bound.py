"""A shots call's ``max_tokens`` bounded by its chapter's lines (issue 64: a 1.5B model looped
to the stage's 8,192 tokens, 25 minutes on a CPU): the bound by chapter size, every measured
answer under it, the consent priced at it, and a looping model cut there and sent back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.answers import cutshort
from storyboard.breakdown.chat import fitting
from storyboard.breakdown.chat.calls import Settings, key_of
from storyboard.breakdown.chat.cost import price_of, tokens
from storyboard.breakdown.pipeline import Options, plan
from storyboard.breakdown.source import Chapter, read_story
from storyboard.emulator.chat import answers as chat_answers
from tests.breakdown.scripted import Reply, Scripted, completion, stage_of
from tests.breakdown.test_breakdown_llm import KEY_ENV, MIA_CAST, SHOTS, STORY, answers, run

DATA = Path(__file__).resolve().parents[1] / "data" / "breakdown"
LINE = "Mia climbed the stairs of the old lighthouse, holding the brass lamp."
REAL_LONGEST = 572  # Qwen2.5-Coder-1.5B's longest shots answer that stopped (measured; in git history)


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "none")


def chapter(count: int, line: str = LINE) -> Chapter:
    lines: list[str] = []
    for _ in range(count):
        lines += [line, ""]
    return Chapter("story.md", 1, "The Lighthouse", 1, tuple(lines[:-1]))


def test_the_bound_grows_with_the_chapters_lines_and_never_passes_the_stages() -> None:
    one, ten = fitting.answer_tokens("shots", chapter(1)), fitting.answer_tokens("shots", chapter(10))
    words = tokens(LINE)
    assert one == fitting.HEAD + fitting.PER_LINE + fitting.WORDS * words
    assert ten == fitting.HEAD + 10 * (fitting.PER_LINE + fitting.WORDS * words)
    assert fitting.answer_tokens("shots", chapter(60)) == fitting.MAX_TOKENS["shots"] == 8192
    assert fitting.answer_tokens("shots", chapter(3, "")) == fitting.HEAD  # blank lines: none
    for stage in ("outline", "cast"):  # bounded: the shots call alone
        assert fitting.answer_tokens(stage, chapter(1)) == fitting.MAX_TOKENS[stage]
    assert fitting.floor("shots", chapter(1)) == one // 4
    assert fitting.needed("shots", 1000, chapter(1)) < fitting.needed("shots", 1000)


def test_every_measured_answer_fits_its_bound_with_room() -> None:
    names = ["Rumpelstiltskin", "The King", "Mia", "Scrooge", "Holmes", "Watson", "Rip"]
    stories = sorted(DATA.glob("*.md")) + sorted(DATA.glob("*.fountain"))
    for chapter_ in (c for path in stories for c in read_story(path).chapters):
        document = {"stage": "shots", "chapter": chapter_.title, "characters": names,
                    "lines": [[n, text] for n, text in chapter_.numbered()]}
        made = json.dumps(chat_answers.shots(document), ensure_ascii=False)
        assert 1.5 * tokens(made) <= fitting.answer_tokens("shots", chapter_), chapter_.title
    first = read_story(DATA / "rumpelstiltskin-three.md").chapters[0]
    assert 1.5 * REAL_LONGEST <= fitting.answer_tokens("shots", first) < 2048


def test_the_consent_prices_each_shots_call_at_its_bound(tmp_path: Path) -> None:
    source = tmp_path / "story.md"
    source.write_text(STORY, encoding="utf-8")
    options = Options(model="m", base_url="http://127.0.0.1:9/v1", key_env=KEY_ENV, yes=True,
                      price_in=1.0, price_out=4.0, stream="false")
    story = read_story(source)
    estimate = plan(story, tmp_path / "series", options)
    shots = [p for p in estimate.pending if p.stage == "shots"]
    bound = fitting.answer_tokens("shots", story.chapters[0])
    assert len(shots) == 1 and bound < fitting.MAX_TOKENS["shots"]
    assert shots[0].ceiling == price_of(estimate.price, shots[0].input_tokens, bound)
    whole = price_of(estimate.price, shots[0].input_tokens, fitting.MAX_TOKENS["shots"])
    assert shots[0].ceiling < whole / 4  # a looping model can cost no more than its bound


def looping(body: dict[str, Any]) -> Reply:
    """A model that repeats itself until the server stops it at ``max_tokens`` (as Qwen2.5-Coder
    1.5B did at temperature 0), then, sent back as cut short, answers."""
    if stage_of(body) != "shots":
        reply: Reply = answers(MIA_CAST)(body)
        return reply
    if len(body["messages"]) == 2:
        cap = int(body["max_tokens"])
        loop = '{"shots":[' + '{"from_line":3,"to_line":3,"camera":"wide shot",' * cap
        return completion(loop[:cap * 4], "length", 900, cap)
    return completion(json.dumps(SHOTS), prompt=900 + int(body["max_tokens"]))


def test_a_model_that_loops_stops_at_the_bound_and_is_sent_back(tmp_path: Path) -> None:
    with Scripted(looping) as server:
        report, series = run(server, tmp_path)
    shots = [b for b in server.bodies if stage_of(b) == "shots"]
    bound = fitting.answer_tokens("shots", read_story(tmp_path / "story.md").chapters[0])
    assert [b["max_tokens"] for b in shots] == [bound, bound] and bound < 2048
    assert "cut short at max_tokens (finish_reason: length)" in shots[1]["messages"][-1]["content"]
    assert report.problems == [] and report.spend is not None
    assert report.spend.output_tokens < 2 * bound  # not the stage's 8,192
    assert (series / "episodes" / "01-the-lighthouse.yaml").is_file()


def test_answers_stored_before_the_bound_are_taken_free(tmp_path: Path) -> None:
    stored = tmp_path / "series" / ".storyboard" / "breakdown" / "answers"
    with Scripted(answers(MIA_CAST)) as server:
        run(server, tmp_path)
        shots = [p for p in stored.iterdir() if json.loads(p.read_text())["stage"] == "shots"]
        body, before = server.bodies[-1], len(server.bodies)
        assert len(shots) == 1 and stage_of(body) == "shots"
        old = Settings("m", server.base_url).body("shots", body["messages"], "json_object",
                                                  False, fitting.MAX_TOKENS["shots"])
        shots[0].rename(stored / f"{key_of(old)}.json")  # as a run before the bound stored it
        report, _series = run(server, tmp_path)
    assert len(server.bodies) == before and report.problems == []


GOOD = SHOTS["shots"][0]  # lines 3..3, Mia, one scene: what the check takes


def loop_of(cap: int) -> str:
    """A looping shots answer cut at ``cap`` tokens: one shot, then the same again and again."""
    return ('{"shots":[' + (json.dumps(GOOD) + ",") * cap)[:cap * 4]


def test_the_shots_written_whole_before_a_cut_are_read_up_to_the_first_repeat() -> None:
    lines = tuple(f"Line {n} of the story." for n in range(1, 9))
    chapter_ = Chapter("story.md", 1, "The Lighthouse", 1, lines)
    shot = {**GOOD, "from_line": 2, "to_line": 3}
    later = {**GOOD, "from_line": 5, "to_line": 4}  # backward: read as line 5, as left_out does
    cut = '{"shots": [' + json.dumps(shot) + ", " + json.dumps(later) + ", " + json.dumps(shot) \
        + ', {"from_line": 7, "to_'
    assert cutshort.written_whole(cut) == [shot, later, shot]  # the one cut: left out
    assert cutshort.read_shots(cut, chapter_) == ({"shots": [shot, later]}, 1)
    outside = '{"shots":[' + json.dumps({**GOOD, "from_line": 9, "to_line": 9}) + ","
    assert cutshort.read_shots(outside, chapter_) is None  # past the chapter: nothing read
    assert cutshort.read_shots('{"shots":[{"from_line":2,"to_line', chapter_) is None
    assert cutshort.written_whole('"I am the story" ' * 50) == []


def test_a_model_that_loops_every_time_ends_with_the_shots_it_wrote_whole(tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        if stage_of(body) != "shots":
            reply: Reply = answers(MIA_CAST)(body)
            return reply
        cap = int(body["max_tokens"])
        return completion(loop_of(cap), "length", 900, cap)
    with Scripted(script) as server:
        report, series = run(server, tmp_path)
        sent = len(server.bodies)
        again, _series = run(server, tmp_path)  # the loops were stored: replayed, not asked
    # the loop repeats a shot it wrote whole: read at once, not sent back (it would loop again)
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "shots"]
    assert sent == len(server.bodies) and again.problems == []
    assert report.problems == []
    said = " ".join(report.notes)
    assert "cut at max_tokens (the model repeated itself until stopped): the first " \
           "answer's 1 shot(s) read as written before the cut" in said
    episode = (series / "episodes" / "01-the-lighthouse.yaml").read_text(encoding="utf-8")
    assert episode.count("action:") == 1 and "@mia climbs the stairs" in episode  # one shot


SPUN = ('{"shots":[{"from_line":1,"to_line":3,"camera":"close-up, slow push in","cast":'
        '["Rumpelstiltskin"], "scenes":[{"seconds":4,"action":"Rumpelstiltskin spins straw into '
        'gold during the night","lines":[{"speaker":"Rumpelstiltskin","quote":"'
        + "I have spun it! " * 200)[:3200]  # Qwen2.5-Coder-1.5B's first answer, cut at 922 tokens


def test_a_quote_that_loops_to_the_cut_is_left_out_and_its_shot_kept() -> None:
    first = read_story(DATA / "rumpelstiltskin-three.md").chapters[0]
    read = cutshort.read_shots(SPUN, first)
    assert read == ({"shots": [{"from_line": 1, "to_line": 3, "camera": "close-up, slow push in",
                                "cast": ["Rumpelstiltskin"], "scenes": [{
                                    "seconds": 4, "lines": [], "action": "Rumpelstiltskin spins "
                                    "straw into gold during the night"}]}]}, 0)
    assert cutshort.written_whole(SPUN.replace('"camera":"close-up', '"camera":"close-up"}]}')) \
        == []  # closed whole: not a cut answer, nothing read here
    assert cutshort.written_whole('{"shots":[{"from_line":1,"to_line":3,"camera":"wi') == []
