"""A version's episode as it plays (issue 68.6): a shot with version lines takes their sound in
place of its own (which carries the original's speech), over its lip-sync pass where it has one;
a shot with no line keeps its take, sound and all; each line says the version's words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storyboard.language.dubbing import DubLine, version_line
from storyboard.language.request import (
    CompiledEpisode,
    CompiledShot,
    Line,
    Manifest,
    Scene,
    ShotRequest,
)
from storyboard.language.versions import VersionLine
from storyboard.media import ffmpeg
from storyboard.run.dub.cut import Approved, VersionCut
from storyboard.run.dub.episodes import version_episode
from storyboard.run.state.lockfile import LockFile

MakeMedia = Callable[..., Path]


def shot(name: str, said: tuple[str, ...] = ()) -> CompiledShot:
    lines = tuple(Line("mia", "Image 1", text, 1.0, 2.5) for text in said)
    request = ShotRequest(model="wan2.7-r2v", prompt="p", media=(), resolution="720P",
                          ratio="16:9", duration=3, prompt_extend=None, watermark=False,
                          scenes=(Scene(1, 1.0, 2.5, "t", lines),))
    return CompiledShot("s", "ep01", name, request, f"hash-{name}")


def loudest(video: Path, start: float, length: float) -> float:
    log = ffmpeg.run(["-ss", str(start), "-t", str(length), "-i", str(video), "-vn", "-af",
                      "volumedetect", "-f", "null", "-"])
    found = [line for line in log.splitlines() if "max_volume:" in line]
    return float(found[0].split("max_volume:")[1].split()[0])


def test_lines_replace_a_shots_sound_and_a_shot_without_keeps_its_own(
        tmp_path: Path, make_media: MakeMedia) -> None:
    shots = [shot("talk", ("Hello there.",)), shot("quiet"), shot("relip", ("Bye.",))]
    takes = {s.id: make_media("video", tmp_path / f"{s.id}.mp4", seconds=3.0, tone=440)
             for s in shots}
    episode = CompiledEpisode("ep01", "One", shots)
    cut = VersionCut("es", Manifest("T", "s", tmp_path, tmp_path / "storyboard.yaml", [episode]),
                     LockFile(tmp_path / "storyboard.lock", {}, {}), [episode], [])
    cut.approved = {s.shot_id: Approved(s, s, takes[s.id], "sha") for s in shots}
    said = {"talk": "Hola, ¿qué tal?", "relip": "Adiós."}
    cut.lines = [version_line("s", "es", "ep01", VersionLine(name, 1, "mia", 1.0, 2.5,
                                                             "voice_reference", "x", text),
                              "voices/mia-voice", "v" * 64, "qwen3-tts-vd")
                 for name, text in said.items()]
    voice = make_media("voice", tmp_path / "line.wav", seconds=1.0)
    relipped = make_media("video", tmp_path / "pass.mp4", seconds=3.0, tone=880, width=352,
                          height=288)

    def made(line: DubLine) -> Path:
        return voice

    played, done = version_episode(cut, episode, {"ep01/relip": relipped}, made,
                                   tmp_path / "heard")
    assert done["quiet"] == takes["quiet"]  # no line: its take, its own sound
    assert loudest(done["quiet"], 0.0, 0.9) > -40
    for name in ("talk", "relip"):
        assert done[name].parent == tmp_path / "heard"
        assert loudest(done[name], 0.05, 0.8) < -80  # its own sound is out
        assert loudest(done[name], 1.1, 0.8) > -40  # the version's line at its window
    picture = ffmpeg.probe(done["relip"]).video
    assert picture is not None and (picture.width, picture.height) == (352, 288)  # its pass
    words = {s.id: [line.text for sc in s.request.scenes for line in sc.lines]
             for s in played.shots}
    assert words == {"talk": ["Hola, ¿qué tal?"], "quiet": [], "relip": ["Adiós."]}
