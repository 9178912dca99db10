"""Faces found, embedded and told apart, the costume under each, the light of a frame: measured on
two public-domain photographs of real people (tests/fixtures/faces/SOURCE.md), composed into 720p
takes by ffmpeg. The models load once a process (``detector.load``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from storyboard.media import samples
from storyboard.media.faces import detector, frames
from storyboard.media.faces.record import People, bhattacharyya, distance, trusted
from storyboard.media.faces.scan import costume_box, light, measure
from storyboard.run.state.measured import Thresholds
from tests.fixtures.faces import ASTRONAUT, HOPPER, Placed, compose

REPO = Path(__file__).resolve().parents[2]
TIMES = [0.05, 2.5, 4.95]


@pytest.fixture(scope="module")
def pictures() -> dict[str, People]:
    return {"astronaut": measure(ASTRONAUT, "image"), "hopper": measure(HOPPER, "image")}


def one_face(people: People) -> tuple[float, ...]:
    [frame] = people.frames
    [face] = frame.faces
    return face.embedding


def test_two_people_are_told_apart_and_one_person_is_the_same_at_every_frame(
        tmp_path: Path, pictures: dict[str, People]) -> None:
    astronaut, hopper = one_face(pictures["astronaut"]), one_face(pictures["hopper"])
    assert distance(astronaut, hopper) > 0.6  # dlib's line between two people
    take = compose(tmp_path / "take.mp4", [Placed(ASTRONAUT, 300, 100, 0.8, mirror=True)])
    found = measure(take, "video", TIMES)
    assert found.kind == "video" and (found.width, found.height) == (1280, 720)
    assert [f.time for f in found.frames] == TIMES
    for frame in found.frames:
        [face] = frame.faces
        assert len(face.embedding) == 128 and face.costume is not None
        assert distance(face.embedding, astronaut) < 0.3 < 0.6 < distance(face.embedding, hopper)
    assert trusted(found.to_dict()) == found  # stored and read back whole


def test_a_recoloured_costume_moves_the_costume_not_the_face(
        tmp_path: Path, pictures: dict[str, People]) -> None:
    [[face]] = [f.faces for f in pictures["astronaut"].frames]
    assert face.costume is not None
    same = measure(compose(tmp_path / "same.mp4", [Placed(ASTRONAUT, 300, 100)], seconds=1),
                   "video", [0.5])
    red = measure(compose(tmp_path / "red.mp4", [Placed(ASTRONAUT, 300, 100, red=True)],
                          seconds=1), "video", [0.5])
    [[kept]], [[worn]] = [f.faces for f in same.frames], [f.faces for f in red.frames]
    assert kept.costume is not None and worn.costume is not None
    assert bhattacharyya(kept.costume, face.costume) < 0.2
    assert bhattacharyya(worn.costume, face.costume) > 0.6
    assert distance(worn.embedding, face.embedding) < 0.15  # the face is the face still


def test_a_grade_over_the_whole_frame_leaves_the_costume_under_the_look_line(
        tmp_path: Path, pictures: dict[str, People]) -> None:
    """Brightened (an offset: dark cloth turns grey), darkened, cooled or warmed: the costume's
    colours, balanced by the face's and reduced to their chroma, stay its own (the picture's foot
    on the frame's, as a body stands, so the box under the face is the costume)."""
    line = Thresholds().look
    for photo, y, scale in ((HOPPER, 240, 0.8), (ASTRONAUT, 208, 1.0)):
        [[own]] = [f.faces for f in pictures["hopper" if photo == HOPPER else "astronaut"].frames]
        assert own.costume is not None
        for number, grade in enumerate(("eq=brightness=0.16", "eq=brightness=-0.16",
                                        "colorchannelmixer=rr=0.6:gg=0.85:bb=1",
                                        "colorchannelmixer=rr=1:gg=0.85:bb=0.6")):
            graded = measure(compose(tmp_path / f"{photo.stem}{number}.mp4",
                                     [Placed(photo, 300, y, scale)], seconds=1, light=grade),
                             "video", [0.5])
            [[face]] = [f.faces for f in graded.frames]
            assert face.costume is not None
            assert bhattacharyya(face.costume, own.costume) < line, (photo.name, grade)


def test_a_face_too_small_to_embed_keeps_the_costume_under_it(
        tmp_path: Path, pictures: dict[str, People]) -> None:
    """A wide shot: the face found but too small to embed (not measured, said why); the box
    under it read all the same, the person's costume, which a recolour moves past the line."""
    [[own]] = [f.faces for f in pictures["astronaut"].frames]
    assert own.costume is not None
    worn = {}
    for red in (False, True):
        wide = measure(compose(tmp_path / f"wide{red}.mp4", [Placed(ASTRONAUT, 300, 100, 0.55,
                                                                   red=red)], seconds=1),
                       "video", [0.5])
        [frame] = wide.frames
        [small] = frame.unseen
        assert frame.faces == () and small.why == "too small" and small.costume is not None
        assert small.box[2] - small.box[0] < detector.MIN_WIDTH
        assert trusted(wide.to_dict()) == wide  # stored and read back whole, its costume too
        worn[red] = bhattacharyya(small.costume, own.costume)
    assert worn[False] < 0.2 < Thresholds().look < worn[True]


def test_the_light_is_the_frame_s_outside_its_people() -> None:
    """A grade is the set's light: the frame outside the columns of the faces found (their
    costumes are look's), the whole frame when they leave less than a tenth of it."""
    frame = np.full((720, 1280, 3), 60, dtype=np.uint8)
    frame[300:, 500:800] = (250, 20, 20)  # a red costume under a face at (600, 200)..(700, 300)
    assert light(frame, [(600, 200, 700, 300)]) == (60.0, 0.0)
    assert light(frame)[1] < -20  # the whole frame: the costume tints it
    assert light(frame, [(100, 0, 1200, 700)]) == light(frame)  # a face filling the frame


def test_what_cannot_be_measured_is_said_never_guessed(tmp_path: Path) -> None:
    small = measure(compose(tmp_path / "small.mp4", [Placed(ASTRONAUT, 300, 100, 0.55)],
                            seconds=1), "video", [0.5])
    [frame] = small.frames
    assert frame.faces == () and [u.why for u in frame.unseen] == ["too small"]
    cartoon = samples.drawing(tmp_path / "cartoon.png", 1280, 720, "0x88ccee", [
        samples.Oval(640, 300, 120, 150, "0xffe0bd"), samples.Oval(600, 270, 12, 18, "0x101010"),
        samples.Oval(680, 270, 12, 18, "0x101010"), samples.Box(560, 450, 160, 260, "blue")])
    [drawn] = measure(cartoon, "image").frames
    assert drawn.faces == () and drawn.unseen == ()


def test_frames_are_read_at_their_times_in_one_run_at_most_1280_wide(tmp_path: Path) -> None:
    moving = compose(tmp_path / "moving.mp4", [Placed(HOPPER, 300, 60)], size=(1920, 1080),
                     light="hue=H=2*PI*t/5")  # each instant its own colours
    read = frames.read_frames(moving, [0.05, 2.5, 4.95, 9.0])  # 9 s is past the end: none
    assert [(f.time, f.width, f.height) for f in read] == [(t, 1280, 720) for t in TIMES]
    assert len({f.rgb for f in read}) == 3  # three instants, not one frame repeated
    [still] = frames.read_frames(HOPPER, None)
    assert (still.time, still.width, still.height, len(still.rgb)) == (0.0, 512, 600, 512 * 600 * 3)


def test_the_light_of_a_frame_and_a_grade_that_shifts_it(tmp_path: Path) -> None:
    plain = measure(compose(tmp_path / "plain.png", [Placed(HOPPER, 300, 60)], seconds=None),
                    "image")
    blue = measure(compose(tmp_path / "blue.png", [Placed(HOPPER, 300, 60)], seconds=None,
                           light="colorbalance=bs=0.3:bm=0.3:rs=-0.2:rm=-0.2"), "image")
    [before], [after] = plain.frames, blue.frames
    assert 0 < before.luma < 255 and after.balance - before.balance > 20


def test_frames_are_sampled_at_each_scene_start_middle_and_end() -> None:
    assert frames.sample_times(5.0) == [0.05, 2.5, 4.95]
    assert frames.sample_times(10.0, [(0, 3), (3, 10)]) == [0.05, 1.5, 2.95, 3.05, 6.5, 9.95]
    assert frames.sample_times(2.0, [(0, 8)]) == [0.05, 1.0, 1.95]  # the file ends first
    assert frames.sample_times(0.0) == [0.0]
    assert costume_box((100, 100, 200, 200), 1280, 720) == (50, 225, 250, 425)
    assert costume_box((100, 600, 200, 700), 1280, 720) is None  # no room under the face


def test_without_the_extra_measuring_says_how_to_add_it() -> None:
    code = ("import sys; sys.modules['dlib'] = None\n"
            "from storyboard.media.faces import detector\n"
            "print(detector.missing())\n"
            "try:\n    detector.load()\nexcept detector.FacesMissing as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=True)
    first, said = done.stdout.splitlines()[:2]
    assert first == "dlib"
    assert "measuring identity, look and grade needs the faces extra (dlib is not installed)" in said
    assert "add the extra with:" in said and "faces" in said.rsplit(":", 1)[1]
    assert detector.missing() is None  # here it is installed


def test_doctor_says_whether_the_extra_is_installed() -> None:
    hidden = ("import runpy, sys; sys.modules['face_recognition_models'] = None; "
              "sys.argv = ['storyboard', 'doctor']; runpy.run_module('storyboard', run_name='__main__')")
    without = subprocess.run([sys.executable, "-c", hidden], capture_output=True, text=True, cwd=REPO,
                             check=False)
    [line] = [x for x in without.stdout.splitlines() if x.startswith("faces:")]
    assert "not installed" in line and "face_recognition_models is not installed" in line
    assert "add the extra with:" in line
    done = subprocess.run([sys.executable, "-m", "storyboard", "doctor", "--json"],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert json.loads(done.stdout)["faces"] == {"installed": True, "missing": None, "message": None}


def test_the_detector_kept_between_processes_finds_what_the_built_one_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dlib
    import numpy as np

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    built: list[int] = []
    build = dlib.get_frontal_face_detector

    def counted() -> object:
        built.append(1)
        return build()
    monkeypatch.setattr(dlib, "get_frontal_face_detector", counted)
    first = detector.frontal(dlib)  # built, and kept for the next process
    kept = detector.kept_detector(dlib.__version__)
    assert built == [1] and kept.stat().st_size > 100_000
    again = detector.frontal(dlib)  # read back: not built again
    assert built == [1]
    for picture in (ASTRONAUT, HOPPER):
        rgb = np.asarray(detector_input(picture))
        finds = [[(r.left(), r.top(), r.right(), r.bottom(), round(s, 6), k)
                  for r, s, k in zip(*d.run(rgb, 1, 0.0), strict=True)] for d in (first, again)]
        assert finds[0] == finds[1] and finds[0], picture
    kept.write_bytes(b"not a detector")  # damaged: built again and written over
    detector.frontal(dlib)
    assert built == [1, 1] and kept.stat().st_size > 100_000


def detector_input(picture: Path) -> object:
    """``picture``'s pixels as the detector reads them (height x width x 3, uint8)."""
    import dlib
    return dlib.load_rgb_image(str(picture))
