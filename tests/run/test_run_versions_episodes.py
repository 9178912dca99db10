"""A version's episode as it plays (issue 68.6): a shot with version lines takes their sound in
place of its own (which carries the original's speech), over its lip-sync pass where it has one;
a shot with no line keeps its take, sound and all; each line says the version's words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storyboard.language.request import (
    CompiledEpisode,
    CompiledShot,
    Line,
    Manifest,
    Scene,
    ShotRequest,
)
from storyboard.language.versions.speech import SpokenLine, version_line
from storyboard.language.versions.versionfile import VersionLine
from storyboard.media import ffmpeg
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.versions.cut import Approved, VersionCut
from storyboard.run.versions.episodes import version_episode
from storyboard.stitch.series.delivery import delivery_of

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
    delivered = {"delivery": {"preset": "vertical", "end_card": True}, "hook": "Who knows?"}
    episode = CompiledEpisode("ep01", "One", shots, delivered)
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

    def made(line: SpokenLine) -> Path:
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
    # the end card of a delivered version says its own last line: the hook: is the original's
    delivery = delivery_of(played.settings)
    assert delivery is not None and delivery_of(episode.settings) == delivery
    assert delivery.end_card_spec(episode) == {"text": "Who knows?", "duration": 2.0}
    assert delivery.end_card_spec(played) == {"text": "Adiós.", "duration": 2.0}


BOTH = """\
id: ep01
shots:
  - id: both
    dialogue: {route: lipsync}
    scenes:
      - {at: 0-2s, action: "@mia raises her cup", say: {mia: "To us."}}
      - {at: 2-4s, action: "the empty shop", say: {narrator: "Years later."}, voiceover: true}
"""


def test_a_shots_version_lines_count_every_line_and_its_heard_assets_only_voiceovers(
        tmp_path: Path, make_media: MakeMedia) -> None:
    """Two numberings (docs/languages.md): a version's ``n`` counts every spoken line of the
    shot, the original's ``lines/EP/SHOT/N`` only its voiceover lines. A shot with an on-screen
    line then a voiceover: the voiceover is the original's line 1 and the version's line 2;
    dubbed, each version line lands on its own scene line, and only the on-screen one is
    re-lipped."""
    from storyboard.language.compile import compile_lenient
    from storyboard.language.read.series import load_source
    from storyboard.language.versions.versionfile import source_lines
    from storyboard.run.versions.episodes import spoken
    from storyboard.run.versions.passes import pass_lines
    from tests.fixtures.versions import versioned
    root = versioned(tmp_path, make_media)
    (root / "episodes" / "ep01.yaml").write_text(BOTH, encoding="utf-8")
    (root / "episodes" / "ep02.yaml").unlink()
    manifest, _ = compile_lenient(load_source(root))
    assert manifest is not None
    episode = manifest.episodes[0]
    heard = {a.id: a.request.prompt for a in manifest.cast if a.episode == "lines"}
    # the original's: the lip-sync route's line (lines/EP/SHOT), and its voiceover line 1
    assert heard == {"ep01/both": "To us.", "ep01/both/1": "Years later."}
    found = [(v.n, v.speaker, v.route == "none", v.source) for v in source_lines(episode)]
    assert found == [(1, "mia", False, "To us."), (2, "narrator", True, "Years later.")]
    words = {1: "Por nosotros.", 2: "Años después."}
    cut = VersionCut("es", manifest, LockFile(tmp_path / "storyboard.lock", {}, {}), [episode],
                     [])
    cut.lines = [version_line("s", "es", "ep01", replace_words(v, words[v.n]),
                              "voices/mia-voice", "v" * 64, "qwen3-tts-vd")
                 for v in source_lines(episode)]
    assert [d.asset.id for d in cut.lines] == ["es/ep01/both/1", "es/ep01/both/2"]
    played = spoken(episode.shots[0], cut.lines)
    said = [(line.speaker, line.text, line.start, line.audio) for scene in played.request.scenes
            for line in scene.lines]
    assert said == [("mia", "Por nosotros.", 0.0, None), ("narrator", "Años después.", 2.0, None)]
    assert [d.line.n for d in pass_lines(cut, "ep01/both")] == [1]  # the face, not the voiceover


def replace_words(line: VersionLine, text: str) -> VersionLine:
    from dataclasses import replace
    return replace(line, text=text)
