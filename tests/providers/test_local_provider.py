"""The local provider: animatics of shot requests and native bodies, measured with ffmpeg."""

from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.animatic.draw import RENDERER_VERSION, closest_ratio, draft_size
from storyboard.animatic.graph import wrap
from storyboard.animatic.shots import (
    body_animatic,
    prompt_segments,
    render_body,
    render_shot,
    shot_animatic,
)
from storyboard.errors import FFmpegError, MediaError, RequestRejected
from storyboard.language.request import CompiledShot, Line, MediaItem, MediaRef, Scene, ShotRequest
from storyboard.media import ffmpeg
from storyboard.providers.local import LocalProvider
from storyboard.targets import TaskStatus

MakeMedia = Callable[..., Path]
FRAME = 1 / 30


def request(*, media: tuple[MediaItem, ...] = (), resolution: str = "720P", ratio: str = "16:9",
            duration: int = 2, prompt: str = "a test shot", scenes: tuple[Scene, ...] = ()
            ) -> ShotRequest:
    return ShotRequest(model="wan2.7-r2v", prompt=prompt, media=media, resolution=resolution,
                       ratio=ratio, duration=duration, prompt_extend=False, watermark=False,
                       scenes=scenes)


def image_item(path: Path, label: str = "Image 1") -> MediaItem:
    return MediaItem("reference_image", MediaRef(path=path), label=label)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def max_volume(path: Path, start: float, end: float) -> float:
    """The loudest sample (dB) of the audio between start and end seconds, by volumedetect."""
    log = ffmpeg.run(["-ss", f"{start}", "-t", f"{end - start}", "-i", str(path), "-map", "0:a",
                      "-af", "volumedetect", "-f", "null", "-"], what="volumedetect")
    found = re.search(r"max_volume: (\S+) dB", log)
    assert found, log
    return float(found.group(1))


def first_last_psnr(path: Path, last: int) -> float:
    """PSNR (dB) between the first and the ``last``-th decoded frame: high when nothing moves."""
    graph = ("[0:v]trim=end_frame=1,setpts=PTS-STARTPTS[a];"
             f"[1:v]select='eq(n,{last})',setpts=PTS-STARTPTS[b];[a][b]psnr")
    log = ffmpeg.run(["-i", str(path), "-i", str(path), "-lavfi", graph, "-f", "null", "-"],
                     what="psnr")
    found = re.search(r"average:(\S+)", log)
    assert found, log
    return float(found.group(1))


# --- size, length, streams -------------------------------------------------------------------


@pytest.mark.parametrize(("resolution", "ratio", "size"), [
    ("720P", "16:9", (1280, 720)),
    ("720P", "9:16", (720, 1280)),
    ("720P", "1:1", (960, 960)),
    ("720P", "4:3", (1104, 832)),
    ("720P", "3:4", (832, 1104)),
    ("1080P", "4:3", (1648, 1248)),
])
def test_native_sizes_and_streams(tmp_path: Path, resolution: str, ratio: str,
                                  size: tuple[int, int]) -> None:
    out = tmp_path / "shot.mp4"
    render_shot(request(resolution=resolution, ratio=ratio), out)
    info = ffmpeg.probe(out)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height) == size
    assert (info.video.codec, info.video.pix_fmt, info.video.fps) == ("h264", "yuv420p", 30.0)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == (
        "aac", 48000, "stereo")
    lengths = ffmpeg.stream_lengths(out)
    assert lengths["video"] == pytest.approx(2.0, abs=1e-6)
    assert lengths["audio"] == pytest.approx(lengths["video"], abs=FRAME)


def test_faststart_puts_the_index_first(tmp_path: Path) -> None:
    out = tmp_path / "shot.mp4"
    render_shot(request(), out, draft=True)
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < out.read_bytes().find(b"mdat")


def test_draft_is_a_quarter_size_at_12_fps_with_the_same_length(tmp_path: Path) -> None:
    out = tmp_path / "draft.mp4"
    render_shot(request(duration=3), out, draft=True)
    info = ffmpeg.probe(out)
    assert info.video is not None
    assert (info.video.width, info.video.height, info.video.fps) == (320, 180, 12.0)
    lengths = ffmpeg.stream_lengths(out)
    assert lengths["video"] == pytest.approx(3.0, abs=1e-6)
    assert lengths["audio"] == pytest.approx(3.0, abs=1 / 12)


@pytest.mark.parametrize(("size", "draft"), [
    ((1280, 720), (320, 180)), ((1920, 1080), (480, 270)), ((1648, 1248), (412, 312)),
    ((1104, 832), (276, 208)), ((1440, 1440), (360, 360)),
])
def test_draft_size_rounds_a_quarter_to_even(size: tuple[int, int],
                                             draft: tuple[int, int]) -> None:
    assert draft_size(*size) == draft
    assert all(side % 2 == 0 for side in draft_size(*size))


@pytest.mark.parametrize(("width", "height", "ratio"), [
    (1920, 1080, "16:9"), (1080, 1920, "9:16"), (500, 500, "1:1"), (800, 600, "4:3"),
    (600, 800, "3:4"), (2000, 800, "16:9"), (700, 650, "1:1"), (640, 500, "4:3"),
])
def test_closest_ratio(width: int, height: int, ratio: str) -> None:
    assert closest_ratio(width, height, ("16:9", "9:16", "1:1", "4:3", "3:4")) == ratio


# --- first frames ----------------------------------------------------------------------------


def test_a_first_frame_decides_the_ratio(tmp_path: Path, make_media: MakeMedia) -> None:
    frame = make_media("image", tmp_path / "portrait.png", width=270, height=480)
    media = (image_item(make_media("image", tmp_path / "a.png")),
             MediaItem("first_frame", MediaRef(path=frame)))
    out = tmp_path / "shot.mp4"
    render_shot(request(media=media, ratio="16:9"), out, draft=True)
    info = ffmpeg.probe(out)
    assert info.video is not None
    assert (info.video.width, info.video.height) == draft_size(720, 1280)


def test_a_frame_from_another_shot_decides_the_ratio(tmp_path: Path,
                                                     make_media: MakeMedia) -> None:
    frame = make_media("image", tmp_path / "last.png", width=400, height=300)
    media = (image_item(make_media("image", tmp_path / "a.png")),
             MediaItem("first_frame", None, from_shot="ballad"))
    spec = shot_animatic(request(media=media, ratio="9:16"), first_frame=frame)
    assert (spec.width, spec.height, spec.backdrop) == (1104, 832, frame)


def test_urls_are_not_drawn(tmp_path: Path, make_media: MakeMedia) -> None:
    media = (image_item(make_media("image", tmp_path / "a.png")),
             MediaItem("reference_image", MediaRef(url="https://example.com/b.png"), "Image 2"),
             MediaItem("first_frame", MediaRef(url="oss://dir/frame.png")))
    spec = shot_animatic(request(media=media, ratio="1:1"))
    assert [t.label for t in spec.thumbnails] == ["Image 1"]
    assert spec.backdrop is None and (spec.width, spec.height) == (960, 960)


# --- picture and sound -----------------------------------------------------------------------


def full_request(tmp_path: Path, make_media: MakeMedia) -> ShotRequest:
    mia = make_media("image", tmp_path / "mia.png", width=320, height=400)
    sam = make_media("video", tmp_path / "sam.mp4", seconds=1.0)
    voice = MediaRef(path=make_media("voice", tmp_path / "mia.wav", seconds=1.5))
    line = Line("mia", "Image 1", "That was lovely.", 1.0, 2.0, voice=voice)
    scenes = (Scene(1, 0.0, 1.0, "Video 1 plays a ballad"),
              Scene(2, 1.0, 2.0, "Image 1 smiles", lines=(line,)))
    media = (MediaItem("reference_video", MediaRef(path=sam), "Video 1", "sam"),
             MediaItem("reference_image", MediaRef(path=mia), "Image 1", "mia", voice=voice),
             MediaItem("reference_image", MediaRef(path=mia), "Image 2", "guitar"))
    return request(media=media, scenes=scenes)


def test_the_animatic_shows_references_scenes_and_lines(tmp_path: Path,
                                                        make_media: MakeMedia) -> None:
    spec = shot_animatic(full_request(tmp_path, make_media))
    assert [(t.label, t.is_video) for t in spec.thumbnails] == [  # the panels name who it is
        ("sam · Video 1", True), ("mia · Image 1", False), ("guitar · Image 2", False)]
    assert [(t.text, t.start, t.end) for t in spec.texts] == [
        ("Video 1 plays a ballad", 0.0, 1.0), ("Image 1 smiles", 1.0, 2.0)]
    assert [(c.text, c.start, c.end) for c in spec.captions] == [
        ("Mia: That was lovely.", 1.0, 2.0)]  # named as the subtitle files name her
    assert [(s.path.name, s.start, s.length) for s in spec.sounds] == [("mia.wav", 1.0, 1.0)]


def test_rendering_is_deterministic(tmp_path: Path, make_media: MakeMedia) -> None:
    shot = full_request(tmp_path, make_media)
    first, second = tmp_path / "one.mp4", tmp_path / "two.mp4"
    render_shot(shot, first, draft=True)
    render_shot(shot, second, draft=True)
    assert sha256(first) == sha256(second)


def test_a_voice_sounds_inside_its_window_only(tmp_path: Path, make_media: MakeMedia) -> None:
    voice = MediaRef(path=make_media("voice", tmp_path / "v.wav", seconds=2.0))
    line = Line("mia", "Image 1", "Hello.", 1.0, 2.0, voice=voice)  # the clip is cut at 2.0
    scenes = (Scene(1, 0.0, 3.0, "Image 1 talks", lines=(line,)),)
    media = (image_item(make_media("image", tmp_path / "a.png")),)
    out = tmp_path / "talk.mp4"
    render_shot(request(media=media, scenes=scenes, duration=3), out, draft=True)
    assert max_volume(out, 0.0, 0.9) < -60
    assert max_volume(out, 1.1, 1.9) > -40  # the sample clips peak near -25 dB; silence is -91
    assert max_volume(out, 2.1, 3.0) < -60


def test_a_reference_video_speaks_with_its_own_audio(tmp_path: Path,
                                                     make_media: MakeMedia) -> None:
    sam = MediaRef(path=make_media("video", tmp_path / "sam.mp4", seconds=2.0))
    line = Line("sam", "Video 1", "Howdy.", 0.5, 1.2, video_voice=sam)
    scenes = (Scene(1, 0.0, 2.0, "Video 1 talks", lines=(line,)),)
    out = tmp_path / "talk.mp4"
    render_shot(request(media=(MediaItem("reference_video", sam, "Video 1"),), scenes=scenes),
                out, draft=True)
    assert max_volume(out, 0.0, 0.4) < -60
    assert max_volume(out, 0.6, 1.1) > -40  # the sample clips peak near -25 dB; silence is -91
    assert max_volume(out, 1.3, 2.0) < -60


@pytest.mark.parametrize("text", [
    "50% off: \"%{pts}\" 'quoted' C:\\path\\ [a,b;c] = %% \\n",  # expanded, this is an error
    "time %{pts} frame %{n}",  # expanded, this changes on every frame
])
def test_user_text_is_drawn_literally(tmp_path: Path, text: str) -> None:
    line = Line("mia", "Image 1", text, 0.0, 2.0)
    scenes = (Scene(1, 0.0, 2.0, text, lines=(line,)),)
    out = tmp_path / "text.mp4"
    render_shot(request(scenes=scenes), out, draft=True)
    # Drawn literally the picture is still: the last frame matches the first (expanded: ~27 dB).
    assert first_last_psnr(out, last=23) > 40


def test_odd_characters_in_the_temporary_folder(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    odd = tmp_path / "we'ird: dir,[x];\\y"
    odd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(odd))  # the text files are written in there
    out = tmp_path / "shot.mp4"
    render_shot(request(prompt="hello"), out, draft=True)
    assert ffmpeg.stream_lengths(out)["video"] == pytest.approx(2.0)


def test_wrap_keeps_newlines_and_cuts_long_text() -> None:
    assert wrap("one\ntwo", 1000, 10, 5) == "one\ntwo"
    wrapped = wrap("word " * 200, 300, 20, 3)
    assert wrapped.count("\n") == 2 and wrapped.endswith("…")


def test_a_missing_file_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        render_shot(request(media=(image_item(tmp_path / "gone.png"),)), tmp_path / "x.mp4")


def test_an_unreadable_reference_is_an_ffmpeg_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture at all")
    out = tmp_path / "x.mp4"
    with pytest.raises(FFmpegError):
        render_shot(request(media=(image_item(broken),)), out, draft=True)
    assert not out.exists()


# --- native bodies ---------------------------------------------------------------------------


def test_a_body_gets_the_service_defaults(tmp_path: Path) -> None:
    out = tmp_path / "body.mp4"
    render_body({"model": "wan2.7-r2v", "input": {"prompt": "x", "media": []}}, out, plain=True)
    info = ffmpeg.probe(out)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height, info.video.fps) == (1920, 1080, 30.0)
    lengths = ffmpeg.stream_lengths(out)
    assert lengths["video"] == pytest.approx(5.0)
    assert lengths["audio"] == pytest.approx(5.0, abs=FRAME)


def test_a_body_honours_size_and_duration(tmp_path: Path, make_media: MakeMedia) -> None:
    mia = make_media("image", tmp_path / "mia.png")
    voice = make_media("voice", tmp_path / "mia.wav", seconds=2.0)
    body = {"input": {
        "prompt": 'Scene 1 [0-1s]: Image 1 waves Scene 2 [1-2s]: Image 1 says: "Hi: 100%"',
        "media": [{"type": "reference_image", "url": "oss://u/mia.png",
                   "reference_voice": "oss://u/mia.wav"},
                  {"type": "reference_image", "url": "https://elsewhere/b.png"}]},
        "parameters": {"resolution": "720P", "ratio": "3:4", "duration": 2}}
    media = {"oss://u/mia.png": mia, "oss://u/mia.wav": voice}
    out = tmp_path / "body.mp4"
    render_body(body, out, media=media)
    info = ffmpeg.probe(out)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (832, 1104)
    assert ffmpeg.stream_lengths(out)["video"] == pytest.approx(2.0)
    assert max_volume(out, 0.0, 0.9) < -60
    assert max_volume(out, 1.1, 1.9) > -40  # the sample clips peak near -25 dB; silence is -91


def test_a_body_is_parsed_into_scenes_lines_and_thumbnails(tmp_path: Path,
                                                           make_media: MakeMedia) -> None:
    sam = make_media("video", tmp_path / "sam.mp4", seconds=1.0)
    frame = make_media("image", tmp_path / "frame.png", width=300, height=300)
    body = {"input": {
        "prompt": ('Scene 1 [0-3s]: Video 1 holds Image 1\n'
                   'Scene 2 [3-10s]: Video 1 grins Video 1 says: "Howdy." '
                   'Image 1 says: "Hello "there"."'),
        "media": [{"type": "reference_video", "url": "oss://sam"},
                  {"type": "reference_image", "url": "oss://guitar"},
                  {"type": "first_frame", "url": "oss://frame"}]},
        "parameters": {"resolution": "720P", "ratio": "16:9", "duration": 10}}
    spec = body_animatic(body, media={"oss://sam": sam, "oss://frame": frame})
    assert (spec.width, spec.height, spec.backdrop) == (960, 960, frame)
    assert [(t.label, t.is_video) for t in spec.thumbnails] == [("Video 1", True)]
    assert [(t.text, t.start, t.end) for t in spec.texts] == [
        ("Video 1 holds Image 1", 0.0, 3.0), ("Video 1 grins", 3.0, 10.0)]
    assert [(c.text, c.start, c.end) for c in spec.captions] == [
        ('Video 1: "Howdy."', 3.0, 6.5), ('Image 1: "Hello "there"."', 6.5, 10.0)]
    assert [(s.path, s.start) for s in spec.sounds] == [(sam, 3.0)]  # its own audio


def test_a_prompt_without_scenes_is_shown_throughout() -> None:
    segments = prompt_segments("A quiet street at dawn", 7.0)
    assert [(s.start, s.end, s.text) for s in segments] == [(0.0, 7.0, "A quiet street at dawn")]


def test_a_plain_body_draws_nothing(tmp_path: Path, make_media: MakeMedia) -> None:
    body = {"input": {"prompt": "Scene 1 [0-2s]: Image 1",
                      "media": [{"type": "reference_image", "url": "oss://a"}]},
            "parameters": {"resolution": "720P", "duration": 2}}
    spec = body_animatic(body, media={"oss://a": make_media("image", tmp_path / "a.png")},
                         plain=True)
    assert (spec.thumbnails, spec.texts, spec.sounds) == ((), (), ())
    assert (spec.width, spec.height, spec.duration) == (1280, 720, 2.0)


# --- the provider ----------------------------------------------------------------------------


def compiled(shot_id: str, req: ShotRequest) -> CompiledShot:
    digest = hashlib.sha256(shot_id.encode()).hexdigest()
    return CompiledShot(series="s", episode="ep01", id=shot_id, request=req, hash=digest)


def test_the_provider_round_trip(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path / "work", draft=True)
    shots = [compiled("a", request(duration=2)), compiled("b", request(duration=3))]

    async def scenario() -> None:
        ids = await asyncio.gather(*(provider.submit(shot, None) for shot in shots))
        assert ids == [f"local-{shot.hash[:16]}" for shot in shots]
        state = await provider.query(ids[1])
        assert state.status is TaskStatus.SUCCEEDED and state.video_url
        assert state.video_url.startswith("file://")
        assert state.usage is not None and state.usage.output_seconds == 3.0
        dest = tmp_path / "dest.mp4"
        await provider.download(state, dest)
        assert ffmpeg.stream_lengths(dest)["video"] == pytest.approx(3.0)
        found = await provider.find(shots[0], since=0.0)
        assert [state.task_id for state in found] == [ids[0]]
        await provider.cancel(ids[0])
        await provider.aclose()

    asyncio.run(scenario())
    version = f"r{RENDERER_VERSION}"
    assert provider.cache_key == f"local-{version}-draft"
    assert LocalProvider(tmp_path).cache_key == f"local-{version}"
    assert provider.traits.writes_lock is False and LocalProvider(tmp_path).traits.writes_lock is True
    assert provider.name == "local" and provider.prices.cost("1080P", 10) == 0.0


def test_the_provider_knows_nothing_it_did_not_render(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path)

    async def scenario() -> None:
        assert (await provider.query("local-0000000000000000")).status is TaskStatus.FAILED
        assert await provider.find(compiled("a", request()), since=0.0) == []

    asyncio.run(scenario())


def test_a_new_provider_measures_an_earlier_render(tmp_path: Path) -> None:
    shot = compiled("a", request(duration=2))
    task_id = asyncio.run(LocalProvider(tmp_path, draft=True).submit(shot, None))
    state = asyncio.run(LocalProvider(tmp_path, draft=True).query(task_id))
    assert state.usage is not None and state.usage.output_seconds == pytest.approx(2.0)
    # the full-size provider does not mistake the draft for its own render
    assert asyncio.run(LocalProvider(tmp_path).query(task_id)).status is TaskStatus.FAILED


def test_a_voice_url_silences_the_video_it_overrides(tmp_path: Path,
                                                     make_media: MakeMedia) -> None:
    sam = MediaRef(path=make_media("video", tmp_path / "sam.mp4", seconds=1.0))
    remote = MediaRef(url="https://example.com/sam.mp3")
    line = Line("sam", "Video 1", "Howdy.", 0.0, 1.0, voice=remote, video_voice=sam)
    scenes = (Scene(1, 0.0, 2.0, "Video 1 talks", lines=(line,)),)
    media = (MediaItem("reference_video", sam, "Video 1", voice=remote),)
    assert shot_animatic(request(media=media, scenes=scenes)).sounds == ()
    body = {"input": {"prompt": 'Scene 1 [0-2s]: Video 1 says: "Howdy."',
                      "media": [{"type": "reference_video", "url": "oss://sam",
                                 "reference_voice": "https://example.com/sam.mp3"}]},
            "parameters": {"duration": 2}}
    assert body_animatic(body, media={"oss://sam": sam.path or Path()}).sounds == ()
    del body["input"]["media"][0]["reference_voice"]
    assert [s.path for s in body_animatic(body, media={"oss://sam": sam.path or Path()}).sounds
            ] == [sam.path]


def test_a_failed_local_render_is_not_retried(tmp_path: Path) -> None:
    """A missing reference fails the same way every time: a final, named error, not a retry."""
    missing = image_item(tmp_path / "gone.png")
    shot = compiled("a", request(media=(missing,)))
    with pytest.raises(RequestRejected) as info:
        asyncio.run(LocalProvider(tmp_path / "work").submit(shot, None))
    assert info.value.retryable is False and info.value.code == "RenderFailed"
    assert "gone.png" in str(info.value) and info.value.shot == "a"


def test_a_first_frame_from_another_shot_is_muted(tmp_path: Path, make_media: MakeMedia) -> None:
    """The earlier shot's baked-in text is softened; a user's own first frame is shown as is."""
    frame = make_media("image", tmp_path / "frame.png", width=320, height=180)
    chained = shot_animatic(request(media=(MediaItem("first_frame", None, from_shot="a"),)),
                            first_frame=frame)
    assert chained.backdrop == frame and chained.backdrop_muted
    own = shot_animatic(request(media=(MediaItem("first_frame", MediaRef(path=frame)),)))
    assert own.backdrop == frame and not own.backdrop_muted
    out = tmp_path / "chained.mp4"
    render_shot(request(media=(MediaItem("first_frame", None, from_shot="a"),)), out,
                first_frame=frame, draft=True)
    assert ffmpeg.stream_lengths(out)["video"] == pytest.approx(2.0)


def _gray_frame(path: Path, tmp_path: Path) -> bytes:
    raw = tmp_path / f"{path.stem}.gray"
    ffmpeg.run(["-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray",
                str(raw)])
    return raw.read_bytes()


def test_the_earlier_shots_text_does_not_show_through(tmp_path: Path) -> None:
    """A shot drawn on another shot's last frame looks the same whatever text that shot showed."""
    wordy = request(duration=2, prompt="A LOT OF LARGE TEXT THAT MUST NOT SHOW THROUGH " * 3)
    quiet = request(duration=2, prompt=" ")
    chained = request(media=(MediaItem("first_frame", None, from_shot="a"),), prompt=" ")
    frames = []
    for name, earlier in (("wordy", wordy), ("quiet", quiet)):
        video, frame, drawn = (tmp_path / f"{name}{s}" for s in (".mp4", ".png", "-next.mp4"))
        render_shot(earlier, video)
        ffmpeg.last_frame(video, frame)
        render_shot(chained, drawn, first_frame=frame)
        frames.append(_gray_frame(drawn, tmp_path))
    changed = sum(1 for a, b in zip(*frames, strict=True) if abs(a - b) > 16)
    assert changed < len(frames[0]) * 0.002, f"{changed} pixels show the earlier text"


def _corner_ink(picture: Path) -> list[int]:
    """Where the card's top right corner has white text (1) or not (0), the tint set aside."""
    raw = picture.with_suffix(".gray")
    ffmpeg.run(["-i", str(picture), "-vf", "crop=320:100:iw-320:0", "-f", "rawvideo",
                "-pix_fmt", "gray", str(raw)], what="reading a card")
    return [1 if value > 200 else 0 for value in raw.read_bytes()]


def test_the_takes_of_a_cast_card_differ_by_more_than_colour(tmp_path: Path) -> None:
    """Take 1 and take 2 of a generated picture: the take's number is drawn in the top right
    corner, so their text differs (before, only the tint did); an asset of one take names no
    take."""
    import storyboard
    from storyboard.providers.local import draw_asset
    (tmp_path / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: T\ncharacters:\n"
        "  mia: {image: {generate: 'a barista, short dark hair', takes: 2}}\n"
        "  sam: {image: {generate: 'a tall regular'}}\n"
        "episodes:\n  - id: ep01\n    shots:\n      - {id: a, prompt: '@mia and @sam wave'}\n",
        encoding="utf-8")
    cast = {shot.id: shot for shot in storyboard.compile(tmp_path).cast}
    first, second = cast["mia"].all_takes()
    one, two = (_corner_ink(draw_asset(take, tmp_path / f"{take.take}.png"))
                for take in (first, second))
    assert sum(one) > 100 and sum(two) > 100  # "take 1", "take 2" drawn
    assert sum(a != b for a, b in zip(one, two, strict=True)) > 100  # and they differ
    assert sum(_corner_ink(draw_asset(cast["sam"], tmp_path / "sam.png"))) == 0
