"""Each model on the emulator, over loopback: its own ids, media kinds and counts, durations, sizes,
prompt limits and switches, read from ``storyboard.targets.video.models`` (issue 27)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.media import ffmpeg
from storyboard.targets.video.models import MODELS, family, model_of
from storyboard.targets.wire.gateways import DASHSCOPE
from tests.fixtures import web
from tests.fixtures.emulator import wait_for

SUBMIT = "/services/aigc/video-generation/video-synthesis"
HEADERS = {"Authorization": "Bearer sk-test", "X-DashScope-Async": "enable"}
RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}
CDN = "https://example.com"
IMAGE = {"type": "reference_image", "url": f"{CDN}/a.png"}
VIDEO = {"type": "reference_video", "url": f"{CDN}/v.mp4"}
AUDIO = {"type": "reference_audio", "url": f"{CDN}/voice.mp3"}
FIRST = {"type": "first_frame", "url": f"{CDN}/first.png"}
LAST = {"type": "last_frame", "url": f"{CDN}/last.png"}
CLIP = {"type": "first_clip", "url": f"{CDN}/clip.mp4"}
DRIVE = {"type": "driving_audio", "url": f"{CDN}/drive.wav"}
VOICE = f"{CDN}/voice.mp3"
R2V, WAN30, PRIME, I2V = "wan2.7-r2v", "wan3.0-video", "wan3.0-video-prime", "wan2.7-i2v"
EDIT = {"type": "video", "url": f"{CDN}/edit.mp4"}  # wan2.7-videoedit's video to edit
HH_R2V, HH_I2V, HH_T2V = "happyhorse-1.1-r2v", "happyhorse-1.1-i2v", "happyhorse-1.1-t2v"
T2V, EDITOR, H3 = "wan2.7-t2v", "wan2.7-videoedit", "MiniMax/MiniMax-H3"
H3_IMAGE = {"type": "image_url", "url": f"{CDN}/a.png"}  # H3's own names for its references
H3_VIDEO = {"type": "feature", "url": f"{CDN}/v.mp4"}
H3_AUDIO = {"type": "driving_audio", "url": f"{CDN}/voice.mp3"}
FIRST_MEDIA: dict[str, list[dict[str, str]]] = {
    R2V: [IMAGE], WAN30: [IMAGE], PRIME: [IMAGE], I2V: [FIRST], HH_R2V: [IMAGE], HH_I2V: [FIRST],
    HH_T2V: [], T2V: [], EDITOR: [EDIT], H3: [H3_IMAGE],
    # Seedance, served by the one service behind its own routes (/gw/ark, /gw/modelark).
    "doubao-seedance-2-0-260128": [IMAGE], "dreamina-seedance-2-0-260128": [IMAGE],
    "doubao-seedance-2-5-260628": [IMAGE], "dreamina-seedance-2-5-260628": [IMAGE],
    "kling-v3-omni": [IMAGE], "kling-v4-omni": [IMAGE], "kling-v4-flash": [IMAGE],
    # MiniMax's own API (/gw/minimax..., /gw/minimax-hailuo...): H3's roles, Hailuo's frame.
    "MiniMax-H3": [IMAGE], "MiniMax-Hailuo-2.3": [FIRST]}


def make_body(model: str, media: list[dict[str, str]] | None = None, *, prompt: str = "Image 1 waves",
              negative: str | None = None, **params: Any) -> dict[str, Any]:
    """A native body for ``model`` (its lowest resolution, its shortest duration unless
    ``params`` say otherwise: 720P and 2 s on Wan, 3 s on HappyHorse, 768P and 4 s on H3)."""
    data: dict[str, Any] = {"prompt": prompt, "media": media or FIRST_MEDIA[family(model)]}
    if negative is not None:
        data["negative_prompt"] = negative
    return {"model": model, "input": data,
            "parameters": {"resolution": _lowest(model), "duration": _shortest(model),
                           "watermark": False, **params}}


def _lowest(model: str) -> str:
    known = model_of(model)
    return "720P" if known is None or "720P" in known.caps.resolutions \
        else known.caps.resolutions[0]


def _shortest(model: str) -> int:
    known = model_of(model)
    return known.caps.min_duration if known is not None else 2


@pytest.fixture(scope="module")
def idle() -> Iterator[EmulatorServer]:
    """Tasks stay PENDING: the rules alone, nothing renders."""
    with EmulatorServer(latency=600) as server:
        yield server


@pytest.fixture(scope="module")
def idle_http(idle: EmulatorServer) -> Iterator[httpx.Client]:
    with web.client(base_url=idle.base_url, headers=HEADERS, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def quick() -> Iterator[EmulatorServer]:
    """Tasks finish after 0.2 s with plain (fast) renders: the right size, length and streams."""
    with EmulatorServer(latency=0.2, plain_results=True) as server:
        yield server


@pytest.fixture(scope="module")
def http(quick: EmulatorServer) -> Iterator[httpx.Client]:
    with web.client(base_url=quick.base_url, headers=HEADERS, timeout=30) as client:
        yield client


# --- what each model accepts and refuses ---------------------------------------------------------

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("r2v 15 s", make_body(R2V, duration=15, ratio="9:16")),
    ("r2v snapshot", make_body("wan2.7-r2v-2026-06-12")),
    ("r2v ignores audio", make_body(R2V, audio="loud")),
    ("wan3.0 every reference kind, 20 s", make_body(WAN30, [IMAGE, VIDEO, AUDIO], duration=20)),
    ("wan3.0 at the most of each kind",
     make_body(WAN30, [IMAGE] * 10 + [VIDEO] * 5 + [AUDIO] * 5, duration=30)),
    ("wan3.0 first and last frame", make_body(WAN30, [FIRST, LAST])),
    ("wan3.0 last frame alone", make_body(WAN30, [LAST])),
    ("wan3.0 voices alone", make_body(WAN30, [AUDIO])),
    ("wan3.0 duration -1", make_body(WAN30, duration=-1)),
    ("wan3.0 480P 1:1", make_body(WAN30, resolution="480P", ratio="1:1")),
    ("wan3.0 prompt at 20000", make_body(WAN30, prompt="x" * 20000)),
    ("wan3.0 audio off", make_body(WAN30, audio=False, seed=1)),
    ("wan3.0 ignores negative and prompt_extend",
     make_body(WAN30, negative="x" * 600, prompt_extend="yes")),
    ("wan3.0 data image", make_body(WAN30, [{**IMAGE, "url": "data:image/png;base64,AAAA"}])),
    ("prime", make_body(PRIME, [IMAGE, AUDIO], resolution="1080P", duration=30)),
    ("prime snapshot", make_body("wan3.0-video-prime-2026-08-24")),
    ("i2v first frame, 15 s", make_body(I2V, negative="x" * 500, duration=15,
                                        resolution="1080P", prompt_extend=False, seed=7)),
    ("i2v first, last frame and audio", make_body(I2V, [FIRST, LAST, DRIVE])),
    ("i2v first clip alone", make_body(I2V, [CLIP])),
    # Issue 35.1: a clip continued towards a last frame (Freepik's and ComfyUI's pages).
    ("i2v first clip towards a last frame", make_body(I2V, [CLIP, LAST, DRIVE])),
    # wan3.0-video renders a prompt alone (the official page's text-to-video mode), and takes
    # ``ratio: adaptive`` (advised for the frame modes).
    ("wan3.0 a prompt alone", {**make_body(WAN30), "input": {"prompt": "a quiet street"}}),
    ("wan3.0 a prompt and no media", {**make_body(WAN30), "input": {"prompt": "rain",
                                                                     "media": []}}),
    ("wan3.0 adaptive with a first frame", make_body(WAN30, [FIRST], ratio="adaptive")),
    ("wan3.0 adaptive with references", make_body(WAN30, [IMAGE], ratio="adaptive")),
    ("i2v ignores ratio and audio", make_body(I2V, ratio="21:9", audio="x")),
]

REJECTED: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown model", make_body("wan3.1-video", [IMAGE]), "InvalidParameter", "Model not exist."),
    ("unknown wan3.0 variant", make_body("wan3.0-video-turbo", [IMAGE]), "InvalidParameter",
     "Model not exist."),
    ("wan3.0 11 images", make_body(WAN30, [IMAGE] * 11), "InvalidParameter",
     "11 reference_image items; at most 10"),
    ("wan3.0 6 videos", make_body(WAN30, [VIDEO] * 6), "InvalidParameter",
     "6 reference_video items; at most 5"),
    ("wan3.0 6 audios", make_body(WAN30, [IMAGE] + [AUDIO] * 6), "InvalidParameter",
     "6 reference_audio items; at most 5"),
    ("wan3.0 two first frames", make_body(WAN30, [FIRST, FIRST]), "InvalidParameter",
     "at most one first_frame"),
    ("wan3.0 two last frames", make_body(WAN30, [LAST, LAST]), "InvalidParameter",
     "at most one last_frame"),
    ("wan3.0 references and a frame", make_body(WAN30, [IMAGE, FIRST]), "InvalidParameter",
     "not both in one request"),
    ("wan3.0 a voice and a last frame", make_body(WAN30, [AUDIO, LAST]), "InvalidParameter",
     "not both in one request"),
    ("wan3.0 reference_voice", make_body(WAN30, [{**IMAGE, "reference_voice": VOICE}]),
     "InvalidParameter", "a voice is a reference_audio item of its own"),
    ("wan3.0 first clip", make_body(WAN30, [CLIP]), "InvalidParameter", ".type must be one of"),
    ("wan3.0 31 s", make_body(WAN30, duration=31), "InvalidParameter", "2..30"),
    ("wan3.0 -2 s", make_body(WAN30, duration=-2), "InvalidParameter", "2..30"),
    ("wan3.0 2K", make_body(WAN30, resolution="2K"), "InvalidParameter", "480P, 720P, 1080P"),
    ("wan3.0 prompt 20001", make_body(WAN30, prompt="x" * 20001), "InvalidParameter",
     "longer than 20000"),
    ("wan3.0 audio text", make_body(WAN30, audio="no"), "InvalidParameter",
     "audio must be a boolean"),
    ("wan3.0 data audio", make_body(WAN30, [{**AUDIO, "url": "data:audio/wav;base64,AAAA"}]),
     "InvalidURL", "http(s) or oss://"),
    ("r2v 20 s", make_body(R2V, duration=20), "InvalidParameter", "2..15"),
    ("r2v -1", make_body(R2V, duration=-1), "InvalidParameter", "2..15"),
    ("r2v 480P", make_body(R2V, resolution="480P"), "InvalidParameter", "720P, 1080P"),
    ("r2v reference_audio", make_body(R2V, [IMAGE, AUDIO]), "InvalidParameter",
     ".type must be one of"),
    ("r2v last frame", make_body(R2V, [IMAGE, LAST]), "InvalidParameter", ".type must be one of"),
    ("r2v prompt 5001", make_body(R2V, prompt="x" * 5001), "InvalidParameter", "longer than 5000"),
    ("i2v a reference", make_body(I2V, [FIRST, IMAGE]), "InvalidParameter",
     ".type must be one of"),
    ("i2v two first frames", make_body(I2V, [FIRST, FIRST]), "InvalidParameter",
     "at most one first_frame"),
    ("i2v two driving audios", make_body(I2V, [FIRST, DRIVE, DRIVE]), "InvalidParameter",
     "at most one driving_audio"),
    ("i2v two first clips", make_body(I2V, [CLIP, CLIP]), "InvalidParameter",
     "at most one first_clip"),
    ("i2v without a first frame", make_body(I2V, [LAST, DRIVE]), "InvalidParameter",
     "needs a first_frame or a first_clip"),
    # Issue 35.1: public schemas (Replicate, fal): a first frame or a clip, never both.
    ("i2v a first frame and a first clip", make_body(I2V, [FIRST, CLIP]), "InvalidParameter",
     "takes a first_frame or a first_clip, not both"),
    ("i2v one of each", make_body(I2V, [FIRST, LAST, DRIVE, CLIP]), "InvalidParameter",
     "takes a first_frame or a first_clip, not both"),
    ("r2v adaptive", make_body(R2V, ratio="adaptive"), "InvalidParameter",
     "ratio must be one of"),
    ("r2v a prompt alone", {**make_body(R2V), "input": {"prompt": "a quiet street"}},
     "InvalidParameter", "input.media must be a non-empty array"),
    ("i2v a prompt alone", {**make_body(I2V), "input": {"prompt": "a quiet street"}},
     "InvalidParameter", "input.media must be a non-empty array"),
    ("i2v reference_voice", make_body(I2V, [{**FIRST, "reference_voice": VOICE}]),
     "InvalidParameter", "takes no reference_voice"),
    ("i2v 16 s", make_body(I2V, duration=16), "InvalidParameter", "2..15"),
    ("i2v 480P", make_body(I2V, resolution="480P"), "InvalidParameter", "720P, 1080P"),
    ("i2v negative 501", make_body(I2V, negative="x" * 501), "InvalidParameter",
     "negative_prompt is longer than 500"),
    ("i2v prompt_extend text", make_body(I2V, prompt_extend="yes"), "InvalidParameter",
     "prompt_extend must be a boolean"),
    ("i2v data clip", make_body(I2V, [{**CLIP, "url": "data:video/mp4;base64,AAAA"}]),
     "InvalidURL", "http(s) or oss://"),
]


@pytest.mark.parametrize("body", [b for _, b in ACCEPTED], ids=[n for n, _ in ACCEPTED])
def test_each_model_accepts_its_own_bodies(idle_http: httpx.Client, body: dict[str, Any]) -> None:
    answer = idle_http.post(SUBMIT, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"]["task_status"] == "PENDING"


@pytest.mark.parametrize(("body", "code", "said"), [r[1:] for r in REJECTED],
                         ids=[r[0] for r in REJECTED])
def test_each_model_refuses_what_it_does_not_take(idle_http: httpx.Client, idle: EmulatorServer,
                                                  body: dict[str, Any], code: str,
                                                  said: str) -> None:
    before = idle.stats()["submissions"]["total"]
    answer = idle_http.post(SUBMIT, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert said in answer.json()["message"]
    assert idle.stats()["submissions"]["total"] == before


def test_every_declared_model_is_served(idle_http: httpx.Client) -> None:
    assert set(FIRST_MEDIA) == set(MODELS)  # a new declaration needs a row in these tables
    for model in DASHSCOPE.models:
        assert idle_http.post(SUBMIT, json=make_body(model)).status_code == 200, model


def test_the_native_endpoint_refuses_models_served_elsewhere_as_unknown(
        idle: EmulatorServer, idle_http: httpx.Client) -> None:
    """Seedance (Ark), Kling (Kling's API), any model no DashScope target sells: DashScope's own
    answer to an id it does not know, as for a made-up one; nothing is submitted."""
    elsewhere = [m for m in MODELS if m not in DASHSCOPE.models]
    assert {"doubao-seedance-2-0-260128", "dreamina-seedance-2-0-260128",
            "kling-v3-omni"} <= set(elsewhere)
    before = idle.stats()["submissions"]["total"]
    made_up = idle_http.post(SUBMIT, json={**make_body(R2V), "model": "wan9-video"})
    for model in elsewhere:
        answer = idle_http.post(SUBMIT, json=make_body(model))
        assert answer.status_code == made_up.status_code == 400, model
        assert {k: v for k, v in answer.json().items() if k != "request_id"} == \
            {"code": "InvalidParameter", "message": "Model not exist."}
        policy = idle_http.get("/uploads", params={"action": "getPolicy", "model": model})
        assert (policy.status_code, policy.json()["code"]) == (400, "InvalidParameter")
    assert idle.stats()["submissions"]["total"] == before


# --- results ---------------------------------------------------------------------------------


def finished(http: httpx.Client, body: dict[str, Any], tmp_path: Path,
             **headers: str) -> tuple[dict[str, Any], ffmpeg.MediaInfo]:
    """Submit, wait, download: the query answer and the probed result."""
    answer = http.post(SUBMIT, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    done = wait_for(http, answer.json()["output"]["task_id"])
    assert done["output"]["task_status"] == "SUCCEEDED", done
    path = tmp_path / f"{done['output']['task_id']}.mp4"
    path.write_bytes(web.get(done["output"]["video_url"], timeout=30).content)
    return done, ffmpeg.probe(path)


@pytest.mark.parametrize(("model", "audio", "track"), [
    (WAN30, False, False), (WAN30, True, True), (PRIME, False, False), (R2V, False, True)])
def test_audio_false_gives_a_video_without_an_audio_track(
        http: httpx.Client, tmp_path: Path, model: str, audio: bool, track: bool) -> None:
    # One prompt for all: the render cache must tell a silent request from a sounding one.
    _, info = finished(http, make_body(model, audio=audio, prompt="one sound test"), tmp_path)
    assert info.video is not None
    assert (info.audio is not None) == track


def test_a_20_second_wan30_task_gives_a_20_second_video(http: httpx.Client,
                                                         tmp_path: Path) -> None:
    done, info = finished(http, make_body(WAN30, duration=20, resolution="480P"), tmp_path)
    assert info.duration is not None and abs(info.duration - 20) < 0.15
    assert info.video is not None and (info.video.width, info.video.height) == (832, 480)
    assert done["usage"] == {"duration": 20, "input_video_duration": 0,
                             "output_video_duration": 20, "video_count": 1, "SR": 480,
                             "ratio": "16:9"}


def test_duration_minus_one_lets_the_model_choose_five_seconds(http: httpx.Client,
                                                              tmp_path: Path) -> None:
    done, info = finished(http, make_body(WAN30, duration=-1, ratio="9:16"), tmp_path)
    assert info.duration is not None and abs(info.duration - 5) < 0.15
    assert info.video is not None and (info.video.width, info.video.height) == (720, 1280)
    assert done["usage"]["output_video_duration"] == 5


# --- uploads, usage and the list -------------------------------------------------------------


def policy(http: httpx.Client, model: str) -> dict[str, Any]:
    answer = http.get("/uploads", params={"action": "getPolicy", "model": model})
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def uploaded(http: httpx.Client, model: str, path: Path) -> str:
    """``oss://...`` of ``path``, uploaded under a policy for ``model``."""
    issued = policy(http, model)
    key = f"{issued['upload_dir']}/{path.name}"
    fields = {"OSSAccessKeyId": issued["oss_access_key_id"], "Signature": issued["signature"],
              "policy": issued["policy"], "key": key,
              "x-oss-object-acl": issued["x_oss_object_acl"],
              "x-oss-forbid-overwrite": issued["x_oss_forbid_overwrite"],
              "success_action_status": "200"}
    with path.open("rb") as handle:
        stored = http.post(issued["upload_host"], data=fields, files={"file": (path.name, handle)})
    assert stored.status_code == 200, stored.text
    return f"oss://{key}"


def test_upload_policies_for_every_model_and_no_other(idle_http: httpx.Client) -> None:
    for model in (*DASHSCOPE.models, "wan2.7-r2v-2026-06-12", "wan3.0-video-2026-08-24"):
        assert policy(idle_http, model)["upload_dir"]
    unknown = idle_http.get("/uploads", params={"action": "getPolicy", "model": "wan9-video"})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "InvalidParameter")


def test_a_file_serves_the_model_it_was_uploaded_for(
        idle_http: httpx.Client, make_media: Callable[..., Path], tmp_path: Path) -> None:
    voice = uploaded(idle_http, WAN30, make_media("voice", tmp_path / "mia.wav"))
    ok = idle_http.post(SUBMIT, json=make_body(WAN30, [IMAGE, {**AUDIO, "url": voice}]),
                        headers=RESOLVE)
    assert ok.status_code == 200, ok.text
    other = idle_http.post(SUBMIT, json=make_body(R2V, [{**IMAGE, "reference_voice": voice}]),
                           headers=RESOLVE)
    assert (other.status_code, other.json()["code"]) == (400, "InvalidURL")


@pytest.mark.parametrize(("model", "billed"), [(WAN30, 8), (R2V, 5)])
def test_usage_counts_reference_video_as_the_model_bills_it(
        http: httpx.Client, make_media: Callable[..., Path], tmp_path: Path, model: str,
        billed: int) -> None:
    clip = make_media("video", tmp_path / "sam.mp4", seconds=4.0)
    videos = [{**VIDEO, "url": uploaded(http, model, clip)} for _ in range(2)]
    done, _ = finished(http, make_body(model, [IMAGE, *videos], duration=3), tmp_path, **RESOLVE)
    usage = done["usage"]
    assert (usage["input_video_duration"], usage["output_video_duration"]) == (billed, 3)
    assert usage["duration"] == billed + 3


def test_i2v_follows_its_first_clip(http: httpx.Client, make_media: Callable[..., Path],
                                    tmp_path: Path) -> None:
    clip = make_media("video", tmp_path / "start.mp4", width=320, height=240, seconds=3.0)
    body = make_body(I2V, [{**CLIP, "url": uploaded(http, I2V, clip)}], duration=4)
    done, info = finished(http, body, tmp_path, **RESOLVE)
    assert info.video is not None and (info.video.width, info.video.height) == (1104, 832)
    assert done["usage"]["ratio"] == "4:3"
    assert done["usage"]["input_video_duration"] == 3


# Issue 35.1: wan2.7-i2v's own rules for its files, read once the task reads them: a first clip
# lasts 2..10 s, a driving audio 2..30 s (not a reference video's 1..30 s nor a voice's 1..10 s).
FILE_RULES = [("clip 12 s", "video", 12.0, CLIP, "lasts 12.00 s; expected 2 to 10 s"),
              ("clip 1.5 s", "video", 1.5, CLIP, "lasts 1.50 s; expected 2 to 10 s"),
              ("clip 3 s", "video", 3.0, CLIP, None),
              ("audio 31 s", "voice", 31.0, DRIVE, "lasts 31.00 s; expected 2 to 30 s"),
              ("audio 1.5 s", "voice", 1.5, DRIVE, "lasts 1.50 s; expected 2 to 30 s"),
              ("audio 12 s", "voice", 12.0, DRIVE, None)]


@pytest.mark.parametrize(("kind", "seconds", "item", "said"), [r[1:] for r in FILE_RULES],
                         ids=[r[0] for r in FILE_RULES])
def test_i2v_holds_its_files_to_their_own_lengths(
        http: httpx.Client, make_media: Callable[..., Path], tmp_path: Path, kind: str,
        seconds: float, item: dict[str, str], said: str | None) -> None:
    suffix = ".mp4" if kind == "video" else ".wav"
    extra = {"width": 320, "height": 240} if kind == "video" else {}
    path = make_media(kind, tmp_path / f"file{suffix}", seconds=seconds, **extra)
    media = [{**item, "url": uploaded(http, I2V, path)}]
    if item is DRIVE:
        media.insert(0, FIRST)
    answer = http.post(SUBMIT, json=make_body(I2V, media), headers=RESOLVE)
    assert answer.status_code == 200, answer.text
    done = wait_for(http, answer.json()["output"]["task_id"])["output"]
    if said is None:
        assert done["task_status"] == "SUCCEEDED", done
    else:
        assert (done["task_status"], done["code"]) == ("FAILED", "InvalidParameter")
        assert said in done["message"]


def test_wan30_renders_a_prompt_alone_and_an_adaptive_ratio(http: httpx.Client,
                                                             tmp_path: Path) -> None:
    body = {**make_body(WAN30, resolution="480P"), "input": {"prompt": "a quiet street"}}
    _, info = finished(http, body, tmp_path)
    assert info.video is not None and (info.video.width, info.video.height) == (832, 480)
    done, info = finished(http, make_body(WAN30, ratio="adaptive", resolution="480P",
                                          prompt="adaptive, nothing to follow"), tmp_path)
    assert info.video is not None and (info.video.width, info.video.height) == (832, 480)
    assert done["usage"]["ratio"] == "16:9"


def compact(when: float) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(when))


def test_the_task_list_filters_by_model() -> None:
    with EmulatorServer(latency=600) as server, \
            web.client(base_url=server.base_url, headers=HEADERS, timeout=10) as client:
        sent = [R2V, WAN30, WAN30, "wan3.0-video-2026-08-24", PRIME, I2V]
        for index, model in enumerate(sent):
            answer = client.post(SUBMIT, json=make_body(model, prompt=f"list {index}"))
            assert answer.status_code == 200, answer.text
        window = {"start_time": compact(time.time() - 3600), "end_time": compact(time.time() + 60)}
        for model in {*sent, "wan9"}:
            found = client.get("/tasks", params={**window, "model_name": model}).json()
            assert found["total"] == sent.count(model), model
            assert {item["model_name"] for item in found["data"]} <= {model}


# --- gateways resell wan2.7-r2v alone --------------------------------------------------------


@pytest.mark.parametrize("name", ["roles", "openai-video"])
def test_gateway_dialects_refuse_other_models(idle: EmulatorServer, name: str) -> None:
    dialect = DIALECTS[name]
    headers = {dialect.auth_header: f"{dialect.auth_scheme} sk-gw" if dialect.auth_scheme
               else "sk-gw"}
    body: dict[str, Any] = {"model": R2V, "prompt": "Image 1 waves"}
    if name == "roles":
        body["image_with_roles"] = [{"url": IMAGE["url"], "role": "reference_image"}]
    else:
        body["media"] = [IMAGE]
    url = idle.gateway_url(name) + dialect.protocol.submit_path
    assert web.post(url, json=body, headers=headers, timeout=10).status_code == 200
    other = copy.deepcopy(body)
    other["model"] = WAN30
    refused = web.post(url, json=other, headers=headers, timeout=10)
    assert refused.status_code == 400, refused.text
    assert "model must be one of" in refused.text


# --- what storyboard compiles, the emulator accepts ------------------------------------------


@pytest.mark.parametrize("model", sorted(DASHSCOPE.models))
def test_the_compiled_native_body_of_each_model_is_accepted(
        idle_http: httpx.Client, tmp_path: Path, make_media: Callable[..., Path],
        model: str) -> None:
    from tests.fixtures.models import compiled, errors, series

    shots, problems = compiled(series(tmp_path, make_media, model), "dashscope")
    assert errors(problems) == []
    body = DIALECTS["dashscope"].body(shots[0].request,
                                      lambda ref: f"{CDN}/{Path(str(ref)).name}")
    answer = idle_http.post(SUBMIT, json=body)
    assert answer.status_code == 200, answer.text


# --- issue 49.1: HappyHorse 1.1, wan2.7-t2v, wan2.7-videoedit --------------------------------

VENDOR_ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("hh r2v nine images, 21:9, 15 s", make_body(HH_R2V, [IMAGE] * 9, ratio="21:9", duration=15,
                                                prompt="[Image 1] waves")),
    ("hh r2v a prompt over 5000 is cut, not refused", make_body(HH_R2V, prompt="x" * 5001)),
    ("hh r2v ignores negative_prompt", make_body(HH_R2V, negative="x" * 600)),
    ("hh i2v a first frame", make_body(HH_I2V, resolution="1080P", seed=7)),
    ("hh t2v a prompt alone", {**make_body(HH_T2V), "input": {"prompt": "rain"}}),
    ("hh t2v 4:5", make_body(HH_T2V, ratio="4:5")),
    ("wan2.7-t2v with its audio_url", {**make_body(T2V, duration=15), "input": {
        "prompt": "rain", "audio_url": f"{CDN}/song.mp3", "negative_prompt": "x" * 500}}),
    ("wan2.7-t2v snapshot", make_body("wan2.7-t2v-2026-04-25")),
    ("videoedit a video and four images", make_body(EDITOR, [EDIT, *[IMAGE] * 4], duration=10)),
    ("h3 every reference kind at its most, 2K", make_body(
        H3, [H3_IMAGE] * 9 + [H3_VIDEO] * 3 + [H3_AUDIO] * 3, resolution="2K", duration=15)),
    ("h3 first and last frame", make_body(H3, [FIRST, LAST], ratio="adaptive")),
    ("h3 a prompt alone", {**make_body(H3, ratio="21:9"), "input": {"prompt": "x" * 7000}}),
    ("h3 ignores a seed", make_body(H3, seed="any")),
]

VENDOR_REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("hh r2v ten images", make_body(HH_R2V, [IMAGE] * 10), "at most 9"),
    ("hh r2v a video", make_body(HH_R2V, [IMAGE, VIDEO]), ".type must be one of reference_image"),
    ("hh r2v 2 s", make_body(HH_R2V, duration=2), "3..15"),
    ("hh r2v 480P", make_body(HH_R2V, resolution="480P"), "720P, 1080P"),
    ("hh r2v 1:2", make_body(HH_R2V, ratio="1:2"), "ratio must be one of"),
    ("hh r2v a reference_voice", make_body(HH_R2V, [{**IMAGE, "reference_voice": VOICE}]),
     "takes no reference_voice"),
    ("hh i2v no first frame", make_body(HH_I2V, [IMAGE]), ".type must be one of first_frame"),
    ("hh i2v two first frames", make_body(HH_I2V, [FIRST, FIRST]), "at most one first_frame"),
    ("hh t2v any media", make_body(HH_T2V, [IMAGE]), "must be one of nothing (no media)"),
    ("wan2.7-t2v an image", make_body(T2V, [IMAGE]), "must be one of nothing (no media)"),
    ("wan2.7-t2v 16 s", make_body(T2V, duration=16), "2..15"),
    ("wan2.7-t2v a data: audio_url", {**make_body(T2V), "input": {
        "prompt": "rain", "audio_url": "data:audio/wav;base64,AAAA"}}, "http(s) or oss://"),
    ("videoedit no video", make_body(EDITOR, [IMAGE]), "needs a video"),
    ("videoedit two videos", make_body(EDITOR, [EDIT, EDIT]), "at most one source_video"),
    ("videoedit five images", make_body(EDITOR, [EDIT, *[IMAGE] * 5]), "at most 4"),
    ("videoedit a reference video", make_body(EDITOR, [EDIT, VIDEO]),
     ".type must be one of reference_image, video"),
    ("videoedit 11 s", make_body(EDITOR, duration=11), "2..10"),
    ("h3 ten images", make_body(H3, [H3_IMAGE] * 10), "at most 9"),
    ("h3 a reference and a frame", make_body(H3, [H3_IMAGE, FIRST]), "not both in one request"),
    ("h3 the neutral type name", make_body(H3, [IMAGE]),
     ".type must be one of image_url, feature, driving_audio, first_frame, last_frame"),
    ("h3 720P", make_body(H3, resolution="720P"), "768P, 2K"),
    ("h3 3 s", make_body(H3, duration=3), "4..15"),
    ("h3 a prompt over 7000", make_body(H3, prompt="x" * 7001), "longer than 7000"),
    ("h3 reference_voice", make_body(H3, [{**H3_IMAGE, "reference_voice": VOICE}]),
     "a voice is a reference_audio item of its own"),
]


@pytest.mark.parametrize("body", [b for _, b in VENDOR_ACCEPTED],
                         ids=[n for n, _ in VENDOR_ACCEPTED])
def test_each_new_model_accepts_its_own_bodies(idle_http: httpx.Client,
                                               body: dict[str, Any]) -> None:
    answer = idle_http.post(SUBMIT, json=body)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(("body", "said"), [r[1:] for r in VENDOR_REJECTED],
                         ids=[r[0] for r in VENDOR_REJECTED])
def test_each_new_model_refuses_what_it_does_not_take(idle_http: httpx.Client,
                                                      body: dict[str, Any], said: str) -> None:
    answer = idle_http.post(SUBMIT, json=body)
    code = "InvalidURL" if "http(s)" in said else "InvalidParameter"
    assert (answer.status_code, answer.json()["code"]) == (400, code), answer.text
    assert said in answer.json()["message"]


def test_videoedit_bills_the_input_and_the_output_seconds(
        http: httpx.Client, make_media: Callable[..., Path], tmp_path: Path) -> None:
    clip = make_media("video", tmp_path / "edit.mp4", width=320, height=240, seconds=4.0)
    body = make_body(EDITOR, [{**EDIT, "url": uploaded(http, EDITOR, clip)}, IMAGE], duration=3)
    done, info = finished(http, body, tmp_path, **RESOLVE)
    assert (done["usage"]["input_video_duration"], done["usage"]["output_video_duration"]) == (4, 3)
    assert done["usage"]["duration"] == 7
    # No ratio: the video follows the one it edits (320x240 is 4:3).
    assert info.video is not None and (info.video.width, info.video.height) == (1104, 832)


def test_wan27_t2v_renders_a_prompt_with_its_audio(
        http: httpx.Client, make_media: Callable[..., Path], tmp_path: Path) -> None:
    song = make_media("voice", tmp_path / "song.wav", seconds=3.0)
    body = {**make_body(T2V, duration=3), "input": {"prompt": "rain on a window",
                                                    "audio_url": uploaded(http, T2V, song)}}
    done, info = finished(http, body, tmp_path, **RESOLVE)
    assert info.video is not None and info.audio is not None
    assert done["usage"]["input_video_duration"] == 0 and done["usage"]["duration"] == 3


def test_happyhorse_marks_its_video_unless_told_not_to(quick: EmulatorServer,
                                                       http: httpx.Client, tmp_path: Path) -> None:
    body = make_body(HH_T2V, prompt="one mark test")
    unmarked = make_body(HH_T2V, prompt="one mark test")
    del body["parameters"]["watermark"]  # the service's default: on
    before = quick.stats()["renders"]["rendered"]
    finished(http, unmarked, tmp_path)
    finished(http, body, tmp_path)
    finished(http, {**unmarked, "parameters": {**unmarked["parameters"], "watermark": True}},
             tmp_path)
    # Two files, not three: no watermark field is the same video as watermark: true.
    assert quick.stats()["renders"]["rendered"] - before == 2


def test_h3_answers_its_usage_in_its_own_names(http: httpx.Client, make_media: Callable[..., Path],
                                               tmp_path: Path) -> None:
    clip = make_media("video", tmp_path / "ref.mp4", width=320, height=240, seconds=3.0)
    body = make_body(H3, [H3_IMAGE, {**H3_VIDEO, "url": uploaded(http, H3, clip)}], duration=4)
    done, info = finished(http, body, tmp_path, **RESOLVE)
    assert (done["usage"]["input_seconds"], done["usage"]["output_seconds"]) == (3, 4)
    assert info.video is not None and (info.video.width, info.video.height) == (1344, 768)


def test_videoedit_without_a_duration_keeps_the_length_of_the_video_it_edits(
        http: httpx.Client, make_media: Callable[..., Path], tmp_path: Path) -> None:
    clip = make_media("video", tmp_path / "keep.mp4", width=320, height=240, seconds=4.0)
    body = make_body(EDITOR, [{**EDIT, "url": uploaded(http, EDITOR, clip)}])
    del body["parameters"]["duration"]  # the service's default, 0: keep the input's length
    done, info = finished(http, body, tmp_path, **RESOLVE)
    assert info.duration == pytest.approx(4.0, abs=0.1)
    assert (done["usage"]["input_video_duration"], done["usage"]["output_video_duration"]) == (4, 4)


@pytest.mark.parametrize(("model", "item", "size", "said"), [
    (HH_R2V, IMAGE, (256, 256), "256x256 pixels; expected its short side at least 400 px"),
    (HH_I2V, FIRST, (300, 800), "longer than 1:2.5"),
    (H3, H3_IMAGE, (240, 320), "short side at least 256 px"),
])
def test_an_uploaded_picture_its_model_cannot_take_fails_the_task_unpaid(
        http: httpx.Client, make_media: Callable[..., Path], tmp_path: Path, model: str,
        item: dict[str, str], size: tuple[int, int], said: str) -> None:
    """The emulator holds an uploaded picture to the model's ``image_rule``, as ``check`` does."""
    small = uploaded(http, model, make_media("image", tmp_path / "small.png", width=size[0],
                                             height=size[1]))
    fine = uploaded(http, model, make_media("image", tmp_path / "fine.png", width=400,
                                            height=400))
    extra = {"resolution": "768P"} if model == H3 else {}
    refused = http.post(SUBMIT, json=make_body(model, [{**item, "url": small}], **extra),
                        headers=RESOLVE)
    done = wait_for(http, refused.json()["output"]["task_id"])["output"]
    assert (done["task_status"], done["code"]) == ("FAILED", "InvalidParameter"), done
    assert said in done["message"] and "input.media[0]" in done["message"]
    taken = http.post(SUBMIT, json=make_body(model, [{**item, "url": fine}], **extra),
                      headers=RESOLVE)
    assert wait_for(http, taken.json()["output"]["task_id"])["output"]["task_status"] == \
        "SUCCEEDED"
