"""The emulator's takes show the people a shot declares, and its drift faults change exactly what
they say: a take's placed picture is the reference it was sent (pixel for pixel, within x264's
loss), ``task:swap`` puts the second character's picture (or the fixed other face) in the first's
place, ``task:costume`` turns the hue of each picture's lower part and nothing else,
``task:grade`` shifts the whole frame's colour and nothing else. Same inputs, same bytes.

The faces are public-domain photographs from registry wheels (``tests/fixtures/faces/SOURCE.md``),
sent as ``data:`` URIs: decoded from the request the emulator received."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storyboard.animatic.draw import Animatic, Thumbnail, layout
from storyboard.animatic.drift import COSTUME_SHARE, GRADE_MIX
from storyboard.emulator import EmulatorServer
from storyboard.emulator.render import OTHER_FACE
from storyboard.media import ffmpeg
from tests.fixtures import web
from tests.fixtures.emulator import HEADERS, SUBMIT, make_body, wait_for

FACES = Path(__file__).parents[1] / "fixtures" / "faces"
ASTRONAUT, HOPPER = FACES / "astronaut.jpg", FACES / "grace_hopper.jpg"
WIDTH, HEIGHT = 1280, 720  # a 720P 16:9 take
AT = "1"  # the second the frames are taken at
CLOSE = 6.0  # mean grey-level difference of a picture and its own scaled copy through x264
FAR = 25.0  # at least this between two different pictures
NOISE = 24  # a pixel differs when by more than x264's own noise beside other pixels
INSET = 6  # pixels kept clear of a region's edges, where x264 blends it with its neighbour


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def crop(self) -> str:
        return f"crop={self.w}:{self.h}:{self.x}:{self.y}"

    def rows(self, top: float, bottom: float) -> Box:
        """The rows from ``top`` to ``bottom`` (shares of the height), inset from every edge."""
        y0, y1 = self.y + round(self.h * top) + INSET, self.y + round(self.h * bottom) - INSET
        return Box(self.x + INSET, y0, self.w - 2 * INSET, y1 - y0)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("STORYBOARD_EMULATOR_DRAWINGS", raising=False)
        with EmulatorServer(latency=0.05) as server:
            yield server


def data_uri(path: Path) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


def body_of(*faces: Path) -> dict[str, object]:
    body = make_body("Image 1 looks at the camera.")
    body["input"] = {"prompt": "Image 1 looks at the camera.",  # type: ignore[index]
                     "media": [{"type": "reference_image", "url": data_uri(f)} for f in faces]}
    return body


def take(server: EmulatorServer, body: dict[str, object], out: Path, fault: str = "") -> Path:
    """The result of ``body``, with ``task:FAULT`` when one is named."""
    if fault:
        server.script(f"task:{fault}")
    with web.client(base_url=server.base_url, headers=HEADERS, timeout=10) as http:
        answer = http.post(SUBMIT, json=body)
        assert answer.status_code == 200, answer.text
        done = wait_for(http, answer.json()["output"]["task_id"])
        assert done["output"]["task_status"] == "SUCCEEDED", done
        out.write_bytes(http.get(done["output"]["video_url"]).content)
    return out


def pixels(source: Path, out: Path, *filters: str, seek: bool = True) -> bytes:
    """``source``'s frame at ``AT`` seconds (or its only picture), through ``filters``, as RGB."""
    ffmpeg.run([*(["-ss", AT] if seek else []), "-i", str(source), "-frames:v", "1",
                *(["-vf", ",".join(filters)] if filters else []), "-sws_flags", ffmpeg.SWS_FLAGS,
                "-f", "rawvideo",
                "-pix_fmt", "rgb24", str(out)], what="a frame's pixels")
    return out.read_bytes()


def placed(face: Path, tmp: Path) -> tuple[int, int]:
    """The size ``face`` is drawn at in a take's figure cell: as the emulator scales it."""
    box = layout(Animatic(WIDTH, HEIGHT, 2.0, thumbnails=(Thumbnail(face, "Image 1"),),
                          figures=True))
    scaled = tmp / f"{face.stem}-placed.png"
    ffmpeg.run(["-i", str(face), "-vf", f"scale={box.thumb_w}:{box.thumb_h}:"
                "force_original_aspect_ratio=decrease:force_divisible_by=2:"
                f"flags={ffmpeg.SWS_FLAGS}", str(scaled)], what="a placed face")
    video = ffmpeg.probe(scaled).video
    assert video is not None
    return video.width, video.height


def figure_box(faces: tuple[Path, ...], index: int, shown: Path, tmp: Path) -> Box:
    """Where the ``index``th of ``faces`` sits in a take when it shows the picture ``shown``."""
    box = layout(Animatic(WIDTH, HEIGHT, 2.0, figures=True,
                          thumbnails=tuple(Thumbnail(f, "Image 1") for f in faces)))
    w, h = placed(shown, tmp)
    # the overlays place a picture on even columns and rows (the frame's chroma is halved)
    x = box.thumb_x(index, len(faces), WIDTH) // 2 * 2 + (box.thumb_w - w) // 2 // 2 * 2
    return Box(x, box.margin // 2 * 2 + (box.thumb_h - h) // 2 // 2 * 2, w, h)


def reference(face: Path, region: Box, frame: Box, tmp: Path) -> bytes:
    """``face`` scaled to ``frame``'s size, cropped to ``region`` (in the take's coordinates)."""
    return pixels(face, tmp / f"{face.stem}-{region.x}-{region.y}.rgb",
                  f"scale={frame.w}:{frame.h}:flags={ffmpeg.SWS_FLAGS}",
                  Box(region.x - frame.x, region.y - frame.y, region.w, region.h).crop(),
                  seek=False)


def mean_difference(one: bytes, other: bytes) -> float:
    assert len(one) == len(other) and one
    return sum(abs(a - b) for a, b in zip(one, other, strict=True)) / len(one)


def region_of(video: Path, region: Box, tmp: Path) -> bytes:
    return pixels(video, tmp / f"{video.stem}-{region.x}-{region.y}-{region.h}.rgb",
                  region.crop())


def test_a_take_shows_each_declared_reference_large(emulator: EmulatorServer,
                                                    tmp_path: Path) -> None:
    faces = (ASTRONAUT, HOPPER)
    video = take(emulator, body_of(*faces), tmp_path / "clean.mp4")
    for index, face in enumerate(faces):
        frame = figure_box(faces, index, face, tmp_path)
        assert frame.h >= HEIGHT / 3  # large enough for a face detector
        inner = frame.rows(0.0, 1.0)
        own = mean_difference(region_of(video, inner, tmp_path),
                              reference(face, inner, frame, tmp_path))
        other = faces[1 - index]
        wrong = mean_difference(region_of(video, inner, tmp_path),
                                reference(other, inner, frame, tmp_path))
        assert own < CLOSE < FAR < wrong, (face.name, own, wrong)


def test_swap_puts_the_second_characters_picture_in_the_firsts_place(
        emulator: EmulatorServer, tmp_path: Path) -> None:
    faces = (ASTRONAUT, HOPPER)
    video = take(emulator, body_of(*faces), tmp_path / "swap.mp4", "swap")
    for index in (0, 1):  # both places show the second character; the first is nowhere
        frame = figure_box(faces, index, HOPPER, tmp_path)
        inner = frame.rows(0.0, 1.0)
        shown = region_of(video, inner, tmp_path)
        assert mean_difference(shown, reference(HOPPER, inner, frame, tmp_path)) < CLOSE


def test_swap_of_a_shots_only_character_shows_the_fixed_other_face(
        emulator: EmulatorServer, tmp_path: Path) -> None:
    video = take(emulator, body_of(ASTRONAUT), tmp_path / "alone.mp4", "swap")
    frame = figure_box((ASTRONAUT,), 0, OTHER_FACE, tmp_path)
    inner = frame.rows(0.0, 1.0)
    assert mean_difference(region_of(video, inner, tmp_path),
                           reference(OTHER_FACE, inner, frame, tmp_path)) < CLOSE


def test_costume_turns_the_lower_part_of_each_picture_and_nothing_else(
        emulator: EmulatorServer, tmp_path: Path) -> None:
    faces = (ASTRONAUT, HOPPER)
    clean = take(emulator, body_of(*faces), tmp_path / "clean.mp4")
    recoloured = take(emulator, body_of(*faces), tmp_path / "costume.mp4", "costume")
    lower = 1 - COSTUME_SHARE
    for index, face in enumerate(faces):
        frame = figure_box(faces, index, face, tmp_path)
        head, clothes = frame.rows(0.0, lower), frame.rows(lower, 1.0)
        assert mean_difference(region_of(recoloured, head, tmp_path),
                               reference(face, head, frame, tmp_path)) < CLOSE
        turned = reference(face, clothes, frame, tmp_path)
        assert mean_difference(region_of(recoloured, clothes, tmp_path), turned) > FAR / 2
    # outside the pictures' lower parts the frame is the clean take's
    whole = Box(0, 0, WIDTH, HEIGHT)
    one, other = region_of(clean, whole, tmp_path), region_of(recoloured, whole, tmp_path)
    changed = [figure_box(faces, i, f, tmp_path) for i, f in enumerate(faces)]
    outside = [k for k in range(WIDTH * HEIGHT) if not any(
        b.x - INSET <= k % WIDTH < b.x + b.w + INSET
        and b.y + round(b.h * lower) - INSET <= k // WIDTH < b.y + b.h + INSET for b in changed)]
    differs = sum(1 for k in outside
                  if max(abs(one[3 * k + c] - other[3 * k + c]) for c in range(3)) > NOISE)
    assert differs == 0


def test_grade_shifts_the_whole_frames_colour_and_nothing_else(
        emulator: EmulatorServer, tmp_path: Path) -> None:
    faces = (ASTRONAUT,)
    clean = take(emulator, body_of(*faces), tmp_path / "clean.mp4")
    graded = take(emulator, body_of(*faces), tmp_path / "grade.mp4", "grade")
    whole = Box(0, 0, WIDTH, HEIGHT)
    before, after = region_of(clean, whole, tmp_path), region_of(graded, whole, tmp_path)
    mix = (GRADE_MIX["rr"], GRADE_MIX["gg"], GRADE_MIX["bb"])
    expected = bytes(round(value * mix[k % 3]) for k, value in enumerate(before))
    assert mean_difference(after, expected) < CLOSE / 2  # the clean frame, mixed: nothing else
    assert mean_difference(after, before) > 10  # and that is a visible shift
    luma = [sum(frame[c::3]) / (len(frame) / 3) for frame in (before, after) for c in (0, 2)]
    assert luma[3] / luma[2] < luma[1] / luma[0] - 0.2  # blue cut more than red: warmer


def test_a_drift_is_drawn_byte_for_byte_the_same(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORYBOARD_EMULATOR_DRAWINGS", raising=False)
    made = []
    for run in (1, 2):
        with EmulatorServer(latency=0.05) as server:
            made.append(take(server, body_of(ASTRONAUT, HOPPER), tmp_path / f"{run}.mp4",
                             "costume").read_bytes())
    assert made[0] == made[1]



IMAGE = "/services/aigc/image-generation/generation"


def picture_of(server: EmulatorServer, out: Path, fault: str = "", *faces: Path) -> Path:
    """A board drawn by the image endpoint, sent ``faces`` as its references."""
    if fault:
        server.script(f"task:{fault}")
    content: list[dict[str, str]] = [{"text": "Storyboard frame: Image 1 at the door."}]
    content += [{"image": data_uri(face)} for face in faces]
    body = {"model": "wan2.7-image", "input": {"messages": [{"role": "user", "content": content}]},
            "parameters": {"size": f"{WIDTH}*{HEIGHT}", "n": 1, "seed": 3, "watermark": False}}
    with web.client(base_url=server.base_url, headers=HEADERS, timeout=10) as http:
        started = http.post(IMAGE, json=body)
        assert started.status_code == 200, started.text
        done = wait_for(http, started.json()["output"]["task_id"])
        assert done["output"]["task_status"] == "SUCCEEDED", done
        url = done["output"]["choices"][0]["message"]["content"][0]["image"]
        out.write_bytes(http.get(url).content)
    return out


def test_a_board_shows_its_references_and_drifts_on_demand(emulator: EmulatorServer,
                                                           tmp_path: Path) -> None:
    faces = (ASTRONAUT, HOPPER)
    board = picture_of(emulator, tmp_path / "board.png", "", *faces)
    swapped = picture_of(emulator, tmp_path / "swapped.png", "swap", *faces)
    recoloured = picture_of(emulator, tmp_path / "costume.png", "costume", *faces)
    first = figure_box(faces, 0, ASTRONAUT, tmp_path)
    inner, clothes = first.rows(0.0, 1.0), first.rows(1 - COSTUME_SHARE, 1.0)

    def seen(picture: Path, region: Box) -> bytes:
        return pixels(picture, tmp_path / f"{picture.stem}-{region.y}.rgb", region.crop(),
                      seek=False)
    own = reference(ASTRONAUT, inner, first, tmp_path)
    assert mean_difference(seen(board, inner), own) < CLOSE
    assert mean_difference(seen(recoloured, clothes),
                           reference(ASTRONAUT, clothes, first, tmp_path)) > FAR / 2
    second_in_first = figure_box(faces, 0, HOPPER, tmp_path).rows(0.0, 1.0)
    assert mean_difference(seen(swapped, second_in_first),
                           reference(HOPPER, second_in_first,
                                     figure_box(faces, 0, HOPPER, tmp_path), tmp_path)) < CLOSE


def test_without_figures_a_board_is_its_bands_alone(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``figures=False`` (a benchmark timing the client on the cores the emulator shares): the
    request's board is drawn without its references: bands of flat colour where they would be."""
    monkeypatch.delenv("STORYBOARD_EMULATOR_DRAWINGS", raising=False)
    faces = (ASTRONAUT, HOPPER)
    with EmulatorServer(latency=0.05, figures=False) as plain:
        bands = picture_of(plain, tmp_path / "bands.png", "", *faces)
    first = figure_box(faces, 0, ASTRONAUT, tmp_path)
    inner = first.rows(0.0, 1.0)
    seen = pixels(bands, tmp_path / "bands.rgb", inner.crop(), seek=False)
    own = reference(ASTRONAUT, inner, first, tmp_path)
    assert mean_difference(seen, own) > FAR / 2  # where the figure would be, bands alone
    assert len(set(seen[k:k + 3] for k in range(0, len(seen), 3))) < 16  # a few flat colours
