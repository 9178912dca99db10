"""Every dialect compiles the example series to its golden bodies; each declaration round-trips."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.dialects.base import put
from storyboard.dialects.manifest import to_json
from storyboard.emulator.gateways import unwire
from storyboard.emulator.gateways.unwire import unbody
from storyboard.language.compile import compile_path
from storyboard.language.lint import limits as check
from storyboard.language.request import Manifest, MediaItem, MediaRef, ShotRequest
from storyboard.targets import TaskStatus
from tests.fixtures.example import copy_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MEDIA_BASE = "https://media.example.com/coffee-shop"
# The golden file of each dialect, and the media base URL it is compiled with.
# Seedance's, Kling's and MiniMax's targets sell their own models, not the example's:
# tests/dialects/test_seedance.py, tests/dialects/test_kling.py and
# tests/dialects/test_minimax.py hold their golden bodies.
CASES = {"dashscope": ("native-compile.json", None),
         **{name: (f"{name}.json", MEDIA_BASE) for name in GATEWAYS
            if "wan2.7-r2v" in DIALECTS[name].models}}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    copy = copy_example(tmp_path_factory.mktemp("ex") / "coffee-shop",
                           ignore=shutil.ignore_patterns(".storyboard"))
    return compile_path(copy)


def test_every_dialect_has_a_case() -> None:
    own = {"ark", "modelark", "kling", "minimax", "minimaxi", "minimax-hailuo", "minimaxi-hailuo"}
    assert set(CASES) | own == set(DIALECTS) and len(GATEWAYS) == 11


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_example_compiles_to_the_golden_bodies(example: Manifest, name: str) -> None:
    golden, base = CASES[name]
    text = to_json(example, dialect=DIALECTS[name], media_base_url=base)
    if os.environ.get("STORYBOARD_WRITE_GOLDEN") and name != "dashscope":
        (GOLDEN / golden).write_text(text)
    assert text == (GOLDEN / golden).read_text()


@pytest.mark.parametrize("name", sorted(GATEWAYS))
def test_a_gateway_body_reads_back_as_the_native_body(example: Manifest, name: str) -> None:
    native, gateway = DIALECTS["dashscope"], DIALECTS[name]
    for shot in example.shots():
        url_for = lambda ref: str(ref.path.name if ref.path else ref.url)  # noqa: E731
        back = unbody(gateway, gateway.body(shot.request, url_for))
        want = native.body(shot.request, url_for)
        assert back["input"]["prompt"] == gateway.arranged(shot.request).prompt_in(gateway.label)
        sent = [m for m in want["input"]["media"]  # what the target takes is sent
                if (gateway.limits.first_frame or m["type"] != "first_frame")
                and (gateway.limits.max_references or m["type"] == "first_frame")]
        assert sorted((m["type"], m["url"]) for m in back["input"]["media"]) == sorted(
            (m["type"], m["url"]) for m in sent)
        assert back["parameters"]["duration"] == want["parameters"]["duration"]


LABELS = {"dashscope": "Image 1", "openai-video": "Image 1", "freepik": "Image 1",
          "roles": "image 1", "arrays": "Image1", "ark": "Image 1", "modelark": "Image 1",
          "kling": "<<<image_1>>>", "minimax": "Image 1", "minimaxi": "Image 1",
          "minimax-hailuo": "Image 1", "minimaxi-hailuo": "Image 1"}


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_labels_and_status_words(example: Manifest, name: str) -> None:
    dialect = DIALECTS[name]
    assert LABELS[name] in example.shots()[0].request.prompt_in(dialect.label)
    for status in (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED,
                   TaskStatus.FAILED):
        answer = unwire.answer(dialect, "t-1", status, video_url="https://v/x.mp4")
        state = dialect.task_state(json.loads(json.dumps(answer)))
        assert (state.task_id, state.status) == ("t-1", status)
    weird = unwire.answer(dialect, "t-2", TaskStatus.PENDING)
    put(weird, dialect.answers.status, "weird")  # wherever the dialect keeps its word
    odd = dialect.task_state(weird)
    assert odd.status is TaskStatus.UNKNOWN and "weird" in odd.message


def test_openai_sends_seconds_as_a_string(example: Manifest) -> None:
    body = DIALECTS["openai-video"].body(example.shots()[0].request, str)
    assert body["seconds"] == "10" and body["size"] == "720P"


def test_arrays_prices_per_generation() -> None:
    prices = DIALECTS["arrays"].protocol.prices["default"]
    assert prices.cost("720P", 3.0) == prices.cost("720P", 15.0) == 0.625
    assert "a generation" in prices.describe()
    assert "/s" in DIALECTS["freepik"].protocol.prices["default"].describe()


def _request(tmp_path: Path, **changes: object) -> ShotRequest:
    image = tmp_path / "mia.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 4000)
    voice = MediaRef(path=tmp_path / "mia.wav")
    media = (MediaItem("reference_image", MediaRef(path=image), "Image 1", "mia", voice),
             MediaItem("reference_video", MediaRef(url="oss://dir/sam.mp4"), "Video 1", "sam"),
             MediaItem("first_frame", None, from_shot="a"))
    request = ShotRequest("wan2.7-r2v", "Image 1 waves", media, "720P", "16:9", 12, False,
                          False)
    return replace(request, **changes)  # type: ignore[arg-type]


def test_gateway_limits_name_the_gateway(tmp_path: Path) -> None:
    request = _request(tmp_path)
    found = {(p.field, p.severity, p.message) for p in
             check.problems(request, DIALECTS["arrays"], None, {})}
    messages = " | ".join(m for _, _, m in found)
    # Seed 002 has no rule for reference videos: 12 s is the model's problem, not the gateway's.
    assert not any(field == "duration" for field, _, _ in found)
    over = check.problems(replace(request, duration=16), DIALECTS["arrays"], None, {})
    assert ("duration", "error", "a 16 s shot; arrays accepts 2 to 15 s with a reference video") \
        in {(p.field, p.severity, p.message) for p in over}
    roles = check.problems(request, DIALECTS["roles"], None, {})  # seed 001: 2..15 s too
    assert not any(p.field == "duration" for p in roles)
    freepik = check.problems(request, DIALECTS["freepik"], None, {})
    assert "a 12 s shot; freepik accepts 2 to 10 s with a reference video" in \
        {p.message for p in freepik}
    assert "oss://dir/sam.mp4: arrays fetches files from public http(s) URLs only" in messages
    assert "are local (this shot's first: " in messages
    assert "and arrays fetches files from public URLs" in messages
    # The first frame is not sent: said once, never also asked for at a public URL.
    about_it = [m for f, _, m in found if f == "first_frame"]
    assert about_it == ["arrays takes no first frame: it is not sent, the shot starts from a "
                        "picture of its own"]
    roles = [p.message for p in check.problems(replace(request, duration=8), DIALECTS["roles"],
                                               None, {}) if p.field == "first_frame"]
    assert len(roles) == 1 and "the first frame of shot a is rendered here" in roles[0]
    mapped = check.problems(replace(request, duration=8), DIALECTS["roles"], "https://c.x", {})
    assert [p.message for p in mapped] == [
        "oss://dir/sam.mp4: roles fetches files from public http(s) URLs only"]
    assert check.problems(replace(request, duration=8), DIALECTS["dashscope"], None, {}) == []


def test_file_size_and_reference_count_limits(tmp_path: Path) -> None:
    freepik = DIALECTS["freepik"]
    small = replace(freepik, target=replace(freepik.target, limits=replace(
        freepik.limits, image_max_mb=0.001)))
    request = _request(tmp_path, duration=5)
    messages = [p.message for p in check.problems(request, small, "https://c.x", {})]
    assert any("mia.png is 0.0 MB; freepik accepts an image of at most 0.001 MB" in m
               for m in messages)
    alone = replace(request, media=())
    assert any("0 reference(s); freepik needs 1 to 5" in p.message
               for p in check.problems(alone, DIALECTS["freepik"], None, {}))


@pytest.mark.parametrize(("name", "word"), [("openai-video", "completed"), ("arrays", "completed"),
                                            ("freepik", "COMPLETED"), ("dashscope", "SUCCEEDED")])
def test_status_words_are_spelled_as_each_gateway_spells_them(name: str, word: str) -> None:
    dialect = DIALECTS[name]
    assert unwire.word(dialect, TaskStatus.SUCCEEDED) == word
    assert dialect.protocol.status(word)[0] is TaskStatus.SUCCEEDED


def test_the_way_back_is_the_emulators_own() -> None:
    """A production dialect declares how a request is written and an answer read; reading a body
    back, the native codes in its words and its error bodies are the emulator's (``unwire``)."""
    from dataclasses import fields

    from storyboard.dialects.base import Dialect
    declared = {f.name for f in fields(Dialect)}
    assert not declared & {"unmedia", "unformats", "own_codes", "error_body"}
    assert set(unwire.UNMEDIA) == set(DIALECTS)
