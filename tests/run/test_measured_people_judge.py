"""Who is who, judged from measurements (issue 96): the assignment over a frame, each character's
line (its own, the series', its pictures' spread), a look named by its episode, what cannot be
measured, and a take's light against its episode's. Measurements are written here as numbers: the
faces' own measuring is tests/media/test_media_faces.py's."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot, MediaRef, ShotRequest
from storyboard.media.faces.record import Face, FrameFacts, People, Unseen
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.state.measured import Finding, Thresholds, blocking, thresholds
from storyboard.run.state.people.assign import assign
from storyboard.run.state.people.cast import Picture
from storyboard.run.state.people.grade import judge_grade
from storyboard.run.state.people.judge import judge_people
from storyboard.run.state.people.known import Known, known_people
from storyboard.run.state.people.records import record_path

RED = (1.0,) + (0.0,) * 48
BLUE = (0.0,) * 48 + (1.0,)


def vector(x: float) -> tuple[float, ...]:
    return (x,) + (0.0,) * 127


def face(x: float, costume: tuple[float, ...] | None = RED) -> Face:
    return Face((0, 0, 100, 100), 1.0, vector(x), costume)


def known(name: str, x: float, *, look: str = "base", identity: float = 0.5,
          worn: float = 0.6) -> Known:
    picture = Picture(name, f"media/{name}.png", look, None, "0" * 64)
    return Known(picture, [vector(x)], [RED], identity, worn)


def people(*frames: FrameFacts) -> People:
    return People("video", frames)


def test_the_pairing_is_over_the_whole_frame_never_one_face_for_two() -> None:
    """ann's picture at 0, bea's at 1: a frame showing bea twice is bea and someone in ann's place."""
    cast = {"ann": [vector(0.0)], "bea": [vector(1.0)]}
    pairs = assign([face(1.0), face(0.95)], cast)
    assert sorted((n, round(d, 2)) for _, n, d in pairs) == [("ann", 0.95), ("bea", 0.0)]
    found = judge_people(people(FrameFacts(1.0, 90, 0, (face(1.0), face(0.95))),
                                FrameFacts(2.5, 90, 0, (face(1.0), face(0.97)))),
                         {"ann": known("ann", 0.0), "bea": known("bea", 1.0)}, "ep01")
    [swap] = found
    assert (swap.kind, swap.severity, swap.start, swap.end) == ("identity", "error", 1.0, 2.5)
    assert swap.detail == ("@ann's place shows @bea (0.03 from bea's picture media/bea.png; 0.97 "
                           "from ann's media/ann.png)")  # the worst frame's words
    assert swap.distance == 0.97  # the worst frame


def test_a_face_of_no_declared_character_says_how_far_it_is() -> None:
    [far] = judge_people(people(FrameFacts(0.5, 90, 0, (face(0.8),))), {"ann": known("ann", 0.0)},
                         "ep01")
    assert far.detail == "@ann is 0.80 from its picture media/ann.png (at most 0.50)"


def test_a_changed_costume_names_the_look_and_the_episode() -> None:
    storm = known("ann", 0.0, look="storm")
    [changed] = judge_people(people(FrameFacts(0.5, 90, 0, (face(0.1, BLUE),))), {"ann": storm},
                             "ep03")
    assert changed.kind == "look" and changed.severity == "error"
    assert changed.detail == ("@ann's costume changed: 1.00 from the look storm it wears in ep03 "
                              "(media/ann.png; at most 0.60)")
    kept = judge_people(people(FrameFacts(0.5, 90, 0, (face(0.1, RED),))), {"ann": storm}, "ep03")
    assert kept == []
    unseen_costume = judge_people(people(FrameFacts(0.5, 90, 0, (face(0.1, None),))),
                                  {"ann": storm}, "ep03")
    assert unseen_costume == []  # no room under the face: nothing said of a costume


def test_a_face_too_small_to_embed_gives_its_costume_to_the_one_declared_character() -> None:
    """A wide shot: no frontal face, one face too small to embed; the costume under it is the
    shot's one declared character's (its identity stays n/a); with two declared, or two small
    faces, or a frontal face matched in that frame, whose it is is not guessed."""
    def small(*costumes: tuple[float, ...]) -> FrameFacts:
        return FrameFacts(0.5, 90, 0, (), tuple(Unseen((0, 0, 40, 40), "too small", c)
                                                for c in costumes))
    found = judge_people(people(small(BLUE)), {"ann": known("ann", 0.0)}, "ep03")
    assert [(f.kind, f.severity) for f in found] == [("look", "error"), ("identity", "n/a")]
    assert found[0].detail == ("@ann's costume changed: 1.00 from its own picture it wears in ep03 "
                               "(media/ann.png; at most 0.60) (its face too small to tell who: "
                               "the costume under it)")
    assert found[1].detail == "@ann: not measured (no frontal face: too small)"
    for kept in (judge_people(people(small(RED)), {"ann": known("ann", 0.0)}, "ep03"),
                 judge_people(people(small(BLUE)), {"ann": known("ann", 0.0),
                                                   "bea": known("bea", 1.0)}, "ep03"),
                 judge_people(people(small(BLUE, BLUE)), {"ann": known("ann", 0.0)}, "ep03")):
        assert [f.kind for f in kept if f.kind == "look"] == []
    with_face = FrameFacts(0.5, 90, 0, (face(0.0, RED),), small(BLUE).unseen)
    assert judge_people(people(with_face), {"ann": known("ann", 0.0)}, "ep03") == []  # an extra


def test_what_cannot_be_measured_is_n_a_with_why_and_never_blocks() -> None:
    cast = {"ann": known("ann", 0.0), "cafe": Known(Picture("cafe", "media/cafe.png", "base",
                                                            None, "1" * 64),
                                                    why="its picture shows no frontal face")}
    turned = people(FrameFacts(0.05, 90, 0, (), (Unseen((0, 0, 50, 50), "profile"),)),
                    FrameFacts(2.5, 90, 0, (), (Unseen((0, 0, 40, 40), "too small"),)))
    found = judge_people(turned, cast, "ep01")
    assert [(f.kind, f.severity, f.detail) for f in found] == [
        ("identity", "n/a", "@ann: not measured (no frontal face: profile or too small)"),
        ("identity", "n/a", "@cafe: not measured (its picture shows no frontal face)")]
    assert blocking(found, Thresholds()) == [] and blocking(found, Thresholds(approve="warning")) == []
    empty = judge_people(people(FrameFacts(1.0, 90, 0)), {"ann": known("ann", 0.0)}, "ep01")
    assert [f.detail for f in empty] == ["@ann: not measured (no face found)"]


def test_a_take_whose_light_jumps_from_its_episode_is_a_warning() -> None:
    neighbours = [(100.0, 5.0), (110.0, 0.0), (95.0, 2.0)]
    dark = people(FrameFacts(0.05, 40, 3), FrameFacts(2.5, 42, 3), FrameFacts(4.95, 41, 3))
    [jump] = judge_grade(dark, neighbours, Thresholds())
    assert (jump.kind, jump.severity, jump.start, jump.end) == ("grade", "warning", 0.0, 4.95)
    assert jump.detail == "luma 41 against the episode's median 100 (-59; at most 20)"
    blue = people(FrameFacts(1.0, 100, 30))
    assert "blue minus red +30 against the episode's median +2" in judge_grade(
        blue, neighbours, Thresholds())[0].detail
    assert judge_grade(people(FrameFacts(1.0, 104, 4)), neighbours, Thresholds()) == []
    assert judge_grade(dark, neighbours[:1], Thresholds()) == []  # one neighbour: no median


@pytest.mark.parametrize("value", [math.nan, math.inf, -0.1, "0.5", True])
def test_a_people_line_that_is_not_a_finite_number_is_refused(value: Any) -> None:
    for key in ("identity", "look", "grade_luma", "grade_balance"):
        with pytest.raises(StoryboardError, match=rf"checks\.{key}"):
            thresholds({key: value})
    with pytest.raises(StoryboardError, match=r"checks\.characters\.ann\.identity"):
        thresholds({"characters": {"ann": {"identity": value}}})


def test_a_character_s_own_lines_are_read_and_checked() -> None:
    limits = thresholds({"identity": 0.45, "characters": {"ann": {"identity": 0.3, "look": 0.2}}})
    assert limits.identity == 0.45 and limits.characters == {"ann": {"identity": 0.3, "look": 0.2}}
    for bad in ([1], {"ann": {"nose": 1}}, {"ann": 0.3}):
        with pytest.raises(StoryboardError, match=r"checks\.characters"):
            thresholds({"characters": bad})


def test_a_finding_line_says_its_range_and_severity() -> None:
    assert Finding("identity", 0.05, 4.95, "n/a", "@ann: not measured (no face found)").line() == \
        "identity at 0.05-4.95 s (n/a): @ann: not measured (no face found)"


def test_a_character_s_line_is_calibrated_on_its_own_approved_pictures(tmp_path: Path) -> None:
    """ann's picture and the face her approved board shows 0.55 apart (one person, drawn twice):
    her line rises to that spread and a margin (at most dlib's 0.6); the board's face is hers to
    be near too; a line of her own is used as given; a board face past 0.6 is not hers."""
    picture = tmp_path / "ann.png"
    picture.write_bytes(b"ann's picture")
    digest = hashlib.sha256(picture.read_bytes()).hexdigest()
    store(tmp_path, digest, People("image", (FrameFacts(0.0, 90, 0, (face(0.0),)),)))
    take = CompiledShot("s", "ep01", "a", ShotRequest("m", "p", (), "720P", "16:9", 2, None, False),
                        "f" * 64, board=MediaRef(asset="boards/ep01/a"),
                        people={"ann": MediaRef(path=picture)})
    lock = LockFile(tmp_path / "storyboard.lock", {}, {
        "s/boards/ep01/a": {"approved": 1, "approved_sha256": "b" * 64}})
    store(tmp_path, "b" * 64, People("image", (FrameFacts(0.0, 90, 0, (face(0.55),)),)))
    ann = known_people(tmp_path, take, lock, Thresholds())["ann"]
    assert ann.identity == 0.6 and ann.faces == [vector(0.0), vector(0.55)]
    own = known_people(tmp_path, take, lock, thresholds({"characters": {"ann": {"identity": 0.3}}}))
    assert own["ann"].identity == 0.3
    store(tmp_path, "b" * 64, People("image", (FrameFacts(0.0, 90, 0, (face(0.7),)),)))
    ann = known_people(tmp_path, take, lock, Thresholds())["ann"]
    assert ann.identity == 0.5 and ann.faces == [vector(0.0)]


def store(root: Path, sha256: str, found: People) -> None:
    path = record_path(root, sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(found.to_dict()), encoding="utf-8")
    stamp = next(STAMPS)  # each write a stamp of its own: records are read again by their stamp
    os.utime(path, ns=(stamp, stamp))


STAMPS = itertools.count(time.time_ns(), 1000)


def test_a_character_s_look_line_is_its_season_s_approved_boards_drawn_from_its_picture(
        tmp_path: Path) -> None:
    """ann's costume on another episode's approved board, drawn from the picture she wears
    here, is 0.45 from her picture's: her look line rises to that and a margin; a board drawn
    from another picture (another look), or only picked, does not count."""
    picture = tmp_path / "ann.png"
    picture.write_bytes(b"ann's picture")
    digest = hashlib.sha256(picture.read_bytes()).hexdigest()
    store(tmp_path, digest, People("image", (FrameFacts(0.0, 90, 0, (face(0.0),)),)))
    mixed = (0.64,) + (0.0,) * 47 + (0.36,)  # 0.45 from RED (Bhattacharyya)
    store(tmp_path, "c" * 64, People("image", (FrameFacts(0.0, 90, 0, (face(0.2, mixed),)),)))
    take = CompiledShot("s", "ep01", "a", ShotRequest("m", "p", (), "720P", "16:9", 2, None, False),
                        "f" * 64, people={"ann": MediaRef(path=picture)})

    def lines(drawn_from: str, state: dict[str, Any]) -> tuple[float, float]:
        board = {"hash": "h", "output_sha256": "c" * 64, "media": {"reference_image 1": {
            "role": "reference_image", "path": "ann.png", "sha256": drawn_from}}}
        lock = LockFile(tmp_path / "storyboard.lock", {"s/boards/ep02/b": board},
                        {"s/boards/ep02/b": state})
        ann = known_people(tmp_path, take, lock, Thresholds())["ann"]
        return round(ann.identity, 3), round(ann.look, 3)

    approved = {"picked": 1, "approved": 1, "approved_sha256": "c" * 64}
    assert lines(digest, approved) == (0.5, 0.547)
    default = (0.5, Thresholds().look)
    assert lines("e" * 64, approved) == default  # drawn from another look's picture
    assert lines(digest, {"picked": 1}) == default  # picked, not approved


def test_a_sheet_made_from_words_is_its_season_s_picture_by_its_asset_and_take(
        tmp_path: Path) -> None:
    """ann's sheet is a cast asset (``cast/ann``, the take whose hash the shot needs): a board
    drawn from that take of it counts in her spread, one drawn from another take does not."""
    store(tmp_path, "d" * 64, People("image", (FrameFacts(0.0, 90, 0, (face(0.0),)),)))
    store(tmp_path, "c" * 64, People("image", (FrameFacts(0.0, 90, 0, (face(0.45),)),)))
    take = CompiledShot("s", "ep01", "a", ShotRequest("m", "p", (), "720P", "16:9", 2, None, False),
                        "f" * 64, people={"ann": MediaRef(asset="cast/ann")},
                        needs={"cast/ann": "h1"})

    def line(sheet_take: str) -> float:
        board = {"hash": "h", "output_sha256": "c" * 64, "media": {"reference_image 1": {
            "role": "reference_image", "asset": "cast/ann", "asset_hash": sheet_take}}}
        sheet = {"hash": "h1", "output_sha256": "d" * 64, "cache_key": "dashscope"}
        lock = LockFile(tmp_path / "storyboard.lock", {"s/cast/ann": sheet, "s/boards/ep02/b": board},
                        {"s/boards/ep02/b": {"approved": 1, "approved_sha256": "c" * 64}})
        return round(known_people(tmp_path, take, lock, Thresholds())["ann"].identity, 3)

    assert line("h1") == 0.55
    assert line("h2") == 0.5
