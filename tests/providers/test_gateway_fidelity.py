"""Each gateway's body as its seed describes it, and an emulator as strict as the seed (issue 21).

Bodies are compiled by the dialects and sent over loopback HTTP to ``storyboard.emulator``; the
emulator reads them back the same way and refuses, with a 400 that names the field, what the
gateway's document refuses.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

import storyboard
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.language.lint import limits as check
from storyboard.language.request import MediaItem, MediaRef, Mention, ShotRequest, write
from tests.fixtures import web

KEY = "fidelity-key-1"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
GUITAR, MIA, SAM = (Mention("guitar", "image", 1), Mention("mia", "image", 2),
                    Mention("sam", "video", 1))
CDN = "https://cdn.example.com/s"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.2, api_key=KEY, plain_results=True) as server:
        yield server


def request(ratio: str = "16:9", *, voiced: str = "mia") -> ShotRequest:
    """guitar (Image 1), mia (Image 2) and sam (Video 1); ``voiced`` carries the voice."""
    voice = MediaRef(url=f"{CDN}/voices/{voiced}.wav")
    def item(role: str, name: str, label: str) -> MediaItem:
        ext = "mp4" if role == "reference_video" else "png"
        return MediaItem(role, MediaRef(url=f"{CDN}/{name}.{ext}"), label,  # type: ignore[arg-type]
                         name, voice if name == voiced else None)
    tokens = (SAM, " holds ", GUITAR, "; ", MIA, " smiles at ", SAM)
    media = (item("reference_image", "guitar", "Image 1"),
             item("reference_image", "mia", "Image 2"),
             item("reference_video", "sam", "Video 1"))
    return ShotRequest("wan2.7-r2v", write(tokens), media, "720P", ratio, 5, False, False,
                       tokens=tokens)


def body(name: str, shot: ShotRequest | None = None) -> dict[str, Any]:
    return DIALECTS[name].body(shot or request(), lambda ref: str(ref.url))


def post(emu: EmulatorServer, name: str, payload: Any, **kwargs: Any) -> httpx.Response:
    dialect = DIALECTS[name]
    scheme = dialect.auth_scheme
    headers = {dialect.auth_header: f"{scheme} {KEY}" if scheme else KEY}
    url = emu.gateway_url(name) + dialect.protocol.submit_path
    if "content" not in kwargs and "files" not in kwargs:
        kwargs["json"] = payload
    return web.post(url, headers={**headers, **kwargs.pop("headers", {})}, timeout=10,
                      **kwargs)


def task_of(emu: EmulatorServer, name: str, answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    task_id = DIALECTS[name].submitted(answer.json())
    return emu.service.table.get(task_id)


# --- 21.4: roles sends resolution, and the ratio as size --------------------------------------


@pytest.mark.parametrize("ratio", ["16:9", "9:16", "1:1"])
def test_roles_sends_resolution_and_the_ratio_as_size(emu: EmulatorServer, ratio: str) -> None:
    sent = body("roles", request(ratio))
    assert (sent["resolution"], sent["size"]) == ("720P", ratio)
    assert "aspect_ratio" not in sent
    task = task_of(emu, "roles", post(emu, "roles", sent))
    assert (task.submission.resolution, task.submission.ratio) == ("720P", ratio)


def test_the_roles_emulator_reads_size_as_the_ratio(emu: EmulatorServer) -> None:
    seed_page = {"model": "wan2.7-r2v", "prompt": "image 1 waves", "resolution": "1080P",
                 "size": "9:16", "image_with_roles": [{"url": f"{CDN}/a.png"}]}
    task = task_of(emu, "roles", post(emu, "roles", seed_page))
    assert (task.submission.resolution, task.submission.ratio) == ("1080P", "9:16")
    wrong = post(emu, "roles", {**seed_page, "size": "720P"})
    assert wrong.status_code == 400 and "size" in wrong.json()["message"]


# --- 21.5: arrays' one voice is Image1's ------------------------------------------------------


def test_arrays_puts_the_voiced_character_first_and_relabels_the_prompt() -> None:
    sent = body("arrays")
    assert sent["images"] == [f"{CDN}/mia.png", f"{CDN}/guitar.png"]
    assert sent["reference_voice"] == f"{CDN}/voices/mia.wav"
    assert sent["prompt"] == "Video1 holds Image2; Image1 smiles at Video1"
    # the other dialects keep the writer's order; the hash never sees the arrangement
    assert body("freepik")["image_urls"][0]["url"] == f"{CDN}/guitar.png"
    unvoiced = replace(request(), media=tuple(replace(m, voice=None) for m in request().media))
    assert body("arrays", unvoiced)["prompt"] == "Video1 holds Image1; Image2 smiles at Video1"


def test_the_arrays_emulator_gives_the_voice_to_image1(emu: EmulatorServer) -> None:
    task = task_of(emu, "arrays", post(emu, "arrays", body("arrays")))
    first = task.submission.media[0]
    assert first["url"] == f"{CDN}/mia.png"
    assert first["reference_voice"] == f"{CDN}/voices/mia.wav"
    assert [m.get("reference_voice") for m in task.submission.media[1:]] == [None, None]
    assert task.submission.prompt == "Video1 holds Image2; Image1 smiles at Video1"


def _errors(shot: ShotRequest, name: str = "arrays", base: str | None = None) -> list[str]:
    return [p.message for p in check.problems(shot, DIALECTS[name], base, {})
            if p.severity == "error"]


def test_check_refuses_what_arrays_cannot_bind() -> None:
    assert _errors(request()) == []
    on_video = _errors(request(voiced="sam"))
    assert on_video == ["arrays gives its one reference voice to Image1, and sam is a video: "
                        "give the voice to an image reference"]
    two = request()
    two = replace(two, media=(replace(two.media[0], voice=MediaRef(url=f"{CDN}/g.wav")),
                              *two.media[1:]))
    assert _errors(two) == ["2 voiced characters in one shot (guitar, mia); arrays takes one "
                            "reference voice, given to Image1: keep one voice in this shot"]
    assert _errors(two, "freepik") == []  # freepik binds each voice to its own item


def _series(tmp_path: Path, provider: str, base: str, *, sam_voice: bool = False) -> Path:
    series = shutil.copytree(EXAMPLE, tmp_path / "coffee-shop",
                             ignore=shutil.ignore_patterns(".storyboard"))
    main = series / "storyboard.yaml"
    text = main.read_text()
    if sam_voice:
        text = text.replace("{video: media/cast/sam.mp4,", "{video: media/cast/sam.mp4, "
                            "voice: mia-voice,")
    main.write_text(text + f"provider: {{name: {provider}, media_base_url: {base}}}\n")
    return series


def test_check_places_an_impossible_voice_at_the_shot(tmp_path: Path) -> None:
    series = _series(tmp_path, "arrays", "https://cdn.example.com/s", sam_voice=True)
    errors = [d for d in storyboard.check(series) if d.severity == "error"]
    assert errors and all(d.span is not None and "01-first-meeting.yaml" in d.span.file
                          for d in errors[:1])
    text = " | ".join(d.format() for d in errors)
    assert "2 voiced characters in one shot (sam, mia)" in text
    assert "01-first-meeting.yaml:6:" in text  # the shot ballad's line


# --- 21.6: arrays fetches https only ----------------------------------------------------------


@pytest.mark.parametrize(("provider", "base", "refused"), [
    ("arrays", "http://cdn.example.com/s", True),
    ("arrays", "https://cdn.example.com/s", False),
    ("arrays", "http://127.0.0.1:8000/s", False),  # loopback: only a local emulator reaches it
    ("roles", "http://cdn.example.com/s", False),
])
def test_arrays_refuses_http_media_urls(tmp_path: Path, provider: str, base: str,
                                        refused: bool) -> None:
    found = [d.format() for d in storyboard.check(_series(tmp_path, provider, base))
             if d.severity == "error"]
    said = [f for f in found if "https:// URLs only" in f]
    assert bool(said) is refused, found
    if refused:
        assert "provider.media_base_url http://cdn.example.com/s" in said[0]
        assert ".yaml:" in said[0]


def test_arrays_refuses_an_http_url_reference() -> None:
    shot = request()
    shot = replace(shot, media=(replace(shot.media[0], ref=MediaRef(url="http://x.org/a.png")),
                                *shot.media[1:]))
    assert "http://x.org/a.png: arrays fetches files from https:// URLs only" in _errors(shot)


# --- 21.7: each emulator as strict as its seed ------------------------------------------------

Mutate = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutate:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DROP:
            del node[last]
        else:
            node[last] = value
    return change


_DROP = object()
STRICT: list[tuple[str, Mutate, str]] = [
    ("freepik", _set("duration", 12), "duration must be an integer in 2..10"),
    ("freepik", _set("duration", "5"), "duration must be an integer"),
    ("freepik", _set("seed", "1234"), "seed must be an integer"),
    ("freepik", _set("image_urls", ["https://x/a.png"]), "image_urls[0] must be an object"),
    ("freepik", _set("image_urls", "https://x/a.png"), "image_urls must be an array"),
    ("freepik", _set("image_urls.0.url", 5), "image_urls[0].url must be an http(s) URL"),
    ("freepik", _set("additional_settings.prompt_extend", "no"),
     "additional_settings.prompt_extend must be a boolean"),
    ("freepik", _set("prompt", _DROP), "prompt is required"),
    ("roles", _set("model", _DROP), "model is required"),
    ("roles", _set("model", "wan9"), "model must be one of"),
    ("roles", _set("image_with_roles", [["x"]]), "image_with_roles[0] must be an object"),
    ("roles", _set("image_with_roles", {"url": "x"}), "image_with_roles must be an array"),
    ("roles", _set("image_with_roles.0.role", "hero"), "image_with_roles[0].role must be one of"),
    ("roles", _set("video_urls", [7]), "video_urls[0] must be an http(s) URL"),
    ("roles", _set("duration", 16), "duration must be an integer in 2..15"),
    ("roles", _set("watermark", "false"), "watermark must be a boolean"),
    ("arrays", _set("images", [{"url": "https://x/a.png"}]), "images[0] must be an http(s) URL"),
    ("arrays", _set("images", ["http://cdn.example.com/a.png"]), "images[0] must be an https://"),
    ("arrays", _set("duration", 1), "duration must be an integer in 2..15"),
    ("arrays", _set("seed", -1), "seed must be an integer"),
    ("openai-video", _set("seconds", 5), 'seconds must be a string holding a whole number'),
    ("openai-video", _set("seconds", "16"), '"2".."15"'),
    ("openai-video", _set("model", _DROP), "model is required"),
    ("openai-video", _set("media", "x"), "media must be an array"),
    ("openai-video", _set("media.0.type", "voice"), "media[0].type must be one of"),
    ("openai-video", _set("size", "16:9"), "size must be one of 720P, 1080P"),
    ("openai-video", _set("media", []), "media must hold 1 to 5 references together; found 0"),
    ("arrays", _set("images", _DROP), "reference_voice speaks as Image1: images must hold"),
    ("arrays", _set("images", ["https://x/a.png"] * 6), "images has 6 items; at most 5"),
    ("roles", _set("image_with_roles", [{"url": "https://x/a.png"}] * 6),
     "image_with_roles has 6 items; at most 5"),
    ("roles", _set("video_urls", ["https://x/v.mp4"] * 4),
     "image_with_roles and video_urls must hold 1 to 5 references together; found 6"),
]


def test_seconds_over_ten_with_a_video_names_seconds(emu: EmulatorServer) -> None:
    payload = body("openai-video")
    payload["seconds"] = "12"
    answer = post(emu, "openai-video", payload)
    assert answer.status_code == 400
    assert answer.json()["message"] == "seconds must be 2..10 with a reference video"


# Issue 35.1: the longest shot with a reference video is each seed's own. Seeds 001 (roles) and
# 002 (arrays) say 2..15 s with no rule for videos; seed 003 (openai-video) says 2..10 s.
WITH_VIDEO = [("roles", 12, 200), ("roles", 15, 200), ("roles", 16, 400), ("arrays", 12, 200),
              ("openai-video", 10, 200), ("openai-video", 11, 400), ("freepik", 10, 200)]


@pytest.mark.parametrize(("name", "seconds", "status"), WITH_VIDEO)
def test_a_shot_with_a_reference_video_is_held_to_its_seeds_length(
        emu: EmulatorServer, name: str, seconds: int, status: int) -> None:
    answer = post(emu, name, body(name, replace(request(), duration=seconds)))
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(("name", "change", "said"), STRICT,
                         ids=[f"{n}-{s[:30]}" for n, _, s in STRICT])
def test_a_body_the_seed_refuses_is_a_400_naming_the_field(
        emu: EmulatorServer, name: str, change: Mutate, said: str) -> None:
    payload = copy.deepcopy(body(name, replace(request(), media=request().media[:2])))
    assert post(emu, name, payload).status_code == 200  # the unchanged body is accepted
    change(payload)
    answer = post(emu, name, payload)
    assert answer.status_code == 400, answer.text
    assert said in answer.json()["message"]


def test_freepik_refuses_eleven_seconds_without_a_video(emu: EmulatorServer) -> None:
    images_only = replace(request(), media=request().media[:2], duration=11)
    answer = post(emu, "freepik", body("freepik", images_only))
    assert answer.status_code == 400 and "duration" in answer.text


def test_the_openai_task_object_has_the_seed_fields(emu: EmulatorServer) -> None:
    answer = post(emu, "openai-video", body("openai-video"))
    assert answer.status_code == 200
    task = answer.json()
    assert {"id", "task_id", "object", "model", "status", "progress", "created_at"} <= set(task)
    assert (task["task_id"], task["progress"], task["status"]) == (task["id"], 0, "queued")
    assert isinstance(task["created_at"], int)
    url = emu.gateway_url("openai-video") + f"/videos/{task['id']}"
    read = web.get(url, headers={"Authorization": f"Bearer {KEY}"}).json()
    assert read["task_id"] == task["id"] and read["created_at"] == task["created_at"]


# --- 21.8: a multipart body is refused, saying to send JSON -----------------------------------


def test_a_multipart_submit_is_told_to_send_json(emu: EmulatorServer) -> None:
    form = {k: str(v) for k, v in body("openai-video").items() if k != "media"}
    answer = post(emu, "openai-video", None, data=form, files={"x": ("a.txt", b"x")})
    assert answer.status_code == 400
    assert "JSON" in answer.text and "Content-Type" in answer.text
