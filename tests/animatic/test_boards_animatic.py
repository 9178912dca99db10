"""The board animatic (issue 56 item 6): ``render SERIES boards`` stitches ``out/boards/EP.mp4``.

Each shot's approved (else picked, else latest) board held for the shot's length with a slow move
from its camera words, the spoken lines where made, subtitles and cards, through the episode
stitcher; the same series gives the same bytes, and another pick re-stitches it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.animatic import cache_key
from storyboard.animatic.clip import render
from storyboard.animatic.draw import Animatic
from storyboard.animatic.held import STATIC, Held, camera_move, render_held
from storyboard.language.hashing import take_of
from storyboard.language.request import AssetRequest, CompiledShot, ShotRequest
from storyboard.media import ffmpeg
from storyboard.run.boards.animatic import BoardFiles
from storyboard.run.state.cache import OutputCache
from tests.fixtures.cli import invoke
from tests.fixtures.ffmpeg_runs import runs_with

SERIES = """\
storyboard: 1
title: Boards
defaults: {resolution: 720P, duration: 2}
output: {loudness: null}
characters:
  mia: {image: {generate: "a barista with short dark hair"}}
boards: {model: wan2.7-image}
episodes:
  - id: ep1
    title_card: {text: "Episode one", duration: 1}
    shots:
      - id: hook
        scenes: ["[0-2s] Close-up, slow push in: @mia hands over a cup"]
      - id: talk
        duration: 3
        scenes:
          - at: 0-3s
            action: "The camera pans left as @mia looks up"
            say: {mia: "Good morning, what can I get you?"}
      - id: bare
        board: false
        scenes: ["[0-2s] The empty counter, @mia gone"]
"""


def series(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return root


def render_boards(root: Path) -> dict[str, Any]:
    result = invoke("render", root, "boards", "--yes", "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_render_boards_stitches_the_animatic_the_same_bytes_twice(tmp_path: Path) -> None:
    made = []
    for copy in ("one", "two"):
        root = series(tmp_path / copy)
        report = render_boards(root)
        [episode] = report["episodes"]
        assert (episode["id"], episode["state"]) == ("boards/ep1", "stitched")
        target = root / "out" / "boards" / "ep1.mp4"
        assert Path(episode["path"]) == target
        made.append(target.read_bytes())
    assert made[0] == made[1]
    facts = ffmpeg.probe(target)
    assert facts.duration is not None and abs(facts.duration - 8.0) < 0.1  # 1 + 2 + 3 + 2
    assert facts.audio is not None
    said = (root / "out" / "boards" / "ep1.srt").read_text("utf-8")
    assert "Mia: Good morning, what can I get you?" in said
    assert not (root / "out" / "ep1.mp4").exists()  # no video episode under --boards
    again = render_boards(root)
    assert [e["state"] for e in again["episodes"]] == ["up to date"]


def test_a_linked_boards_folder_is_never_written_through(tmp_path: Path) -> None:
    """``out/boards`` a link to a folder outside the series: ``render SERIES boards`` stops naming it
    before a board is made, and nothing is written where it points."""
    root, elsewhere = series(tmp_path / "s"), tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "out").mkdir()
    (root / "out" / "boards").symlink_to(elsewhere, target_is_directory=True)
    result = invoke("render", root, "boards", "--yes", "--json")
    assert result.exit_code != 0, result.output
    assert f"{root / 'out' / 'boards'} is a link (to {elsewhere})" in result.output
    assert list(elsewhere.iterdir()) == [] and "Traceback" not in result.output
    assert not (root / "storyboard.lock").exists()  # no board made


def test_another_pick_re_stitches_the_animatic_with_that_board(tmp_path: Path) -> None:
    root = series(tmp_path / "s")
    render_boards(root)
    first = (root / "out" / "boards" / "ep1.mp4").read_bytes()
    result = invoke("retake", root, "boards/ep1/hook", "--yes")
    assert result.exit_code == 0, result.output
    latest = render_boards(root)  # take 2 is the latest made: the animatic shows it
    assert [e["state"] for e in latest["episodes"]] == ["stitched"]
    second = (root / "out" / "boards" / "ep1.mp4").read_bytes()
    assert second != first
    result = invoke("pick", root, "boards/ep1/hook", "1")
    assert result.exit_code == 0, result.output
    render_boards(root)
    assert (root / "out" / "boards" / "ep1.mp4").read_bytes() == first


def board(take: int = 1) -> CompiledShot:
    asset = AssetRequest(kind="image", subject="board", model="wan2.7-image", prompt="a cup",
                         name="ep1/hook")
    request = ShotRequest(model=asset.model, prompt=asset.prompt, media=(), resolution="",
                          ratio="16:9", duration=0, prompt_extend=None, watermark=False)
    first = CompiledShot("s", "boards", "ep1/hook", request,
                         hashlib.sha256(b"hook").hexdigest() + ".png", asset=asset)
    first.others = [take_of(first, k) for k in range(2, take + 1)]
    return first


def test_the_board_shown_is_the_approved_else_picked_else_latest_made(tmp_path: Path) -> None:
    shot = board(take=3)
    cache = OutputCache(tmp_path, cache_key())
    for take in shot.all_takes()[:2]:  # takes 1 and 2 made, 3 not yet
        cache.path(take.hash).parent.mkdir(parents=True, exist_ok=True)
        cache.path(take.hash).write_bytes(b"png")
    path = {t.take: cache.path(t.hash) for t in shot.all_takes()}
    manifest = type("M", (), {"root": tmp_path, "cast": [shot]})()

    def shown(state: dict[str, Any]) -> Path | None:
        return BoardFiles(manifest, {"s/boards/ep1/hook": state}, cache).take_file(shot)

    assert shown({}) == path[2]  # the latest made
    assert shown({"picked": 1}) == path[1]
    assert shown({"picked": 1, "approved": 2}) == path[2]
    assert shown({"picked": 3}) == path[2]  # a pick not made yet: the latest made
    assert BoardFiles(manifest, {}, OutputCache(tmp_path, "other")).take_file(shot) is None


def test_the_move_comes_from_the_camera_words() -> None:
    said = {
        "Close-up, slow push in on her hands": "push in",
        "The camera zooms out over the square": "pull out",
        "Pull back to a wide shot": "pull out",
        "Dolly in on the cup": "push in",
        "Pan left across the shelves": "pan left",
        "The camera pans across the room": "pan right",
        "Tilt down to the floor": "tilt down",
        "A slow tilt to the sky": "tilt up",
        "Mia waits": STATIC,
    }
    assert {words: camera_move(words) for words in said} == said


def frame(video: Path, out: Path, *at: str) -> bytes:
    """One frame of ``video`` as 64x36 grey bytes (the first, or ``at``: input options)."""
    ffmpeg.run([*at, "-i", str(video), "-frames:v", "1", "-vf", "scale=64:36,format=gray",
                "-f", "rawvideo", str(out)])
    return out.read_bytes()


def test_each_move_draws_a_moving_picture_and_static_a_still_one(tmp_path: Path,
                                                              make_media: Any) -> None:
    still = make_media("image", tmp_path / "board.png", width=640, height=360)
    moved = {}
    for move in ("push in", "pull out", "pan left", "tilt up", STATIC):
        out = render_held(Held(still, 320, 180, 1.0, move, fps=12), tmp_path / f"{move}.mp4")
        first = frame(out, tmp_path / f"{move}-0.gray")
        last = frame(out, tmp_path / f"{move}-1.gray", "-sseof", "-0.1")
        moved[move] = sum(abs(a - b) for a, b in zip(first, last, strict=True)) / len(first) > 2
        assert ffmpeg.probe(out).video is not None
    assert moved == {"push in": True, "pull out": True, "pan left": True, "tilt up": True,
                     STATIC: False}


SPOKEN = SERIES.replace("""      - id: talk
        duration: 3
""", """      - id: talk
        duration: 3
        model: wan2.7-i2v
""").replace('say: {mia: "Good morning, what can I get you?"}',
             'say: {mia: "Good morning! What can I get you today? The croissants are fresh."}'
             ).replace('mia: {image: {generate: "a barista with short dark hair"}}',
                       'mia: {image: {generate: "a barista with short dark hair"}, '
                       'voice: mia-voice}').replace("boards: {model", """voices:
  mia-voice: {design: "a warm, calm woman", sample: "Good morning, what can I get you?"}
boards: {model""")


def loudest(video: Path, start: float, length: float) -> float:
    """The loudest sample in [start, start + length) of ``video``'s sound, in dB."""
    log = ffmpeg.run(["-ss", str(start), "-t", str(length), "-i", str(video), "-vn", "-af",
                      "volumedetect", "-f", "null", "-"])
    found = [line for line in log.splitlines() if "max_volume:" in line]
    return float(found[0].split("max_volume:")[1].split()[0])


def test_a_made_line_is_heard_under_its_board(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    (root / "storyboard.yaml").write_text(SPOKEN, encoding="utf-8")
    render_boards(root)
    target = root / "out" / "boards" / "ep1.mp4"
    assert loudest(target, 3.2, 2.5) < -80  # the line is not made yet: silence
    result = invoke("render", root, "--yes", "--json")  # makes the line (and the videos)
    assert result.exit_code == 0, result.output
    again = render_boards(root)
    assert [e["state"] for e in again["episodes"]] == ["stitched"]
    assert loudest(target, 3.2, 2.5) > -40  # the made line, under the shot that speaks it
    assert loudest(target, 1.2, 1.5) < -80  # and nothing under the silent shot before it


def test_a_held_board_is_drawn_on_simd_paths_to_the_c_reference_picture(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: a held board's per-frame scale runs on ffmpeg's SIMD paths (a third of the
    CPU of its C reference paths), and every frame is the one the C paths draw."""
    still = make_media("image", tmp_path / "board.png", width=640, height=360)
    run = ffmpeg.run
    calls: list[list[str]] = []

    def spied(args: list[str], **kwargs: Any) -> str:
        calls.append(list(args))
        return run(args, **kwargs)

    def portable(args: list[str], **kwargs: Any) -> str:
        return run([*ffmpeg.PORTABLE_ARGS, *args], **kwargs)

    for move in ("push in", "pan left", STATIC):
        spec = Held(still, 320, 180, 1.0, move, fps=12)
        monkeypatch.setattr(ffmpeg, "run", spied)
        fast = render_held(spec, tmp_path / f"{move}-simd.mp4")
        monkeypatch.setattr(ffmpeg, "run", portable)
        reference = render_held(spec, tmp_path / f"{move}-c.mp4")
        monkeypatch.setattr(ffmpeg, "run", run)
        assert video_md5(fast) == video_md5(reference), move
    assert calls and all(ffmpeg.PORTABLE_ARGS[0] not in args for args in calls)


def video_md5(video: Path) -> str:
    """The MD5 of ``video``'s decoded frames (its picture, not its container)."""
    out = video.with_suffix(".md5")
    ffmpeg.run(["-i", str(video), "-map", "0:v", "-f", "md5", str(out)])
    return out.read_text(encoding="utf-8").strip()


def test_a_held_board_encodes_each_distinct_picture_once(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: x264 encodes a held board's distinct pictures only (a static board: one;
    a move: one a step of a few pixels), each held for its frames by skipped P-frames: the clip
    still has every frame of the shot's length, and the SPS and PPS every clip has, so the
    animatic joins by copy."""
    still = make_media("image", tmp_path / "board.png", width=640, height=360)
    card = tmp_path / "card.mp4"
    render(Animatic(320, 180, 1.0, fps=12), card)
    encodes = runs_with(monkeypatch, "libx264")
    # 3 s at 12 fps: 36 frames; a pan over 352 px (32 more: 8 steps of 4), a tilt over 198
    # (18: 4 steps of 4, its last two pixels not reached), a zoom to 352 px wide (32: 4 steps of 8)
    # and 1 s of a pan right: 12 frames, a picture every two: 6 of its 9 positions
    for move, seconds, count in ((STATIC, 3, 1), ("pan left", 3, 9), ("tilt up", 3, 5),
                                 ("push in", 3, 5), ("pull out", 3, 5), ("pan right", 1, 6)):
        out = render_held(Held(still, 320, 180, seconds, move, fps=12), tmp_path / f"{move}.mp4")
        frames_at = encodes[-1].index("-frames:v")
        assert encodes[-1][frames_at + 1] == str(count), move
        digests = frame_digests(out, tmp_path / f"{move}.md5")
        assert len(digests) == 12 * seconds, move
        changes = [d for before, d in itertools.pairwise(["", *digests]) if d != before]
        assert len(changes) == count, move
        assert ffmpeg.stream_lengths(out) == {"video": seconds, "audio": seconds}, move
        assert parameter_sets(out, tmp_path) == parameter_sets(card, tmp_path), move


def frame_digests(video: Path, out: Path) -> list[str]:
    """The MD5 of each of ``video``'s decoded frames, in order."""
    ffmpeg.run(["-i", str(video), "-map", "0:v", "-f", "framemd5", str(out)])
    return [line.split(",")[-1].strip() for line in out.read_text("utf-8").splitlines()
            if line and not line.startswith("#")]


def parameter_sets(video: Path, folder: Path) -> str:
    """The ``#extradata`` line (the SPS and PPS's checksum) of ``video``'s picture."""
    listing = folder / f"{video.stem}.crc"
    ffmpeg.run(["-i", str(video), "-map", "0:v", "-c", "copy", "-f", "framecrc", str(listing)])
    return ffmpeg.parse_framecrc(listing.read_text("utf-8"))[1]


def test_silent_held_boards_copy_one_silent_track_made_once(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: a silent held board's sound is the silent track of its length, encoded
    once and copied into each (its packets those every clip's silence encodes to), not encoded
    again a board; copied in Python (``media.muxing.mp4``), not by an ffmpeg run a board."""
    still = make_media("image", tmp_path / "board.png", width=640, height=360)
    card = tmp_path / "card.mp4"
    render(Animatic(320, 180, 2.0, fps=12), card)
    encoded = runs_with(monkeypatch, "aac")
    muxed = runs_with(monkeypatch, "+faststart")
    cards = tmp_path / "cards"
    cards.mkdir()
    held = [render_held(Held(still, 320, 180, 2.0, move, fps=12), cards / f"{move}.mp4")
            for move in (STATIC, "pan left", "push in")]
    assert len(encoded) == 1 and not muxed
    assert len(list(cards.glob("silence-*.m4a"))) == 1
    for clip in held:
        assert audio_packets(clip, tmp_path) == audio_packets(card, tmp_path), clip.name
        assert ffmpeg.stream_lengths(clip) == {"video": 2.0, "audio": 2.0}, clip.name


def audio_packets(video: Path, folder: Path) -> list[str]:
    """Each of ``video``'s sound packets (time, size and checksum), as ``framecrc`` lists it."""
    listing = folder / f"{video.stem}-audio.crc"
    ffmpeg.run(["-i", str(video), "-map", "0:a", "-c", "copy", "-f", "framecrc", str(listing)])
    return [line for line in listing.read_text("utf-8").splitlines()
            if line and not line.startswith("#")]
