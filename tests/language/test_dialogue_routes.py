"""Each spoken line's route to the lips, declared and shown (issue 59.1), and short lines (59.2).

One dialogue series compiled to every declared model: the route its line takes, or the located
error that says why it cannot go (table-driven); golden bodies for each route
(``tests/golden/dialogue-routes.json``; ``STORYBOARD_WRITE_GOLDEN=1`` rewrites it); a voiceover
line never routed to the lips; what ``check`` refuses, at the line; a short line padded by
ffmpeg, its made audio probed: as long as the model's minimum, the words where the scene puts
them and unchanged.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.cli.render.prompt_form import shot_form
from storyboard.dialects import DIALECTS
from storyboard.dialects.manifest import shot_entry
from storyboard.errors import Diagnostic
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledShot, Line, MediaRef
from storyboard.language.resolving.liproutes import promised, windows
from storyboard.media import samples
from storyboard.media.inputs.pad import pad_line, padding
from storyboard.targets.video.models import MODELS, Model
from storyboard.targets.wire.gateways import DASHSCOPE, TARGETS
from tests.fixtures.vendor_models import url_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "dialogue-routes.json"
HEAD = """\
storyboard: 1
title: Dialogue
defaults: {resolution: 720P, ratio: "16:9"}
provider: {media_base_url: "https://media.example.com/dialogue"}
voices:
  mia-voice: {design: "warm, calm woman in her thirties", sample: "Morning! The usual?"}
  old-voice: {design: "an old man, slow and dry", sample: "It began here, in this town, years ago."}
  clip-voice: {audio: media/clip.wav}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
  narrator: {image: media/mia.png, voice: old-voice}
  sam: {image: media/sam.png, voice: clip-voice}
"""


def write_series(root: Path, make_media: Callable[..., Path], shots: str) -> Path:
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    make_media("image", root / "media" / "sam.png", width=480, height=480, color="brown")
    make_media("video", root / "media" / "edit.mp4", width=480, height=480, seconds=6.0)
    make_media("voice", root / "media" / "clip.wav", seconds=2.0)
    episode = f"- id: ep01\n  shots:\n{textwrap.indent(shots, '    ')}"
    (root / "storyboard.yaml").write_text(HEAD + "episodes:\n" + textwrap.indent(episode, "  "),
                                          encoding="utf-8")
    return root


def compiled(root: Path, provider: str | None = None
             ) -> tuple[dict[str, CompiledShot], list[Diagnostic]]:
    if provider is not None:  # a provider: block's settings are the provider's it names
        path = root / "storyboard.yaml"
        path.write_text(path.read_text("utf-8").replace(
            "provider: {media_base_url", f"provider: {{name: {provider}, media_base_url"), "utf-8")
    manifest, problems = compile_lenient(load_source(root), provider=provider)
    return {s.id: s for s in manifest.episode_shots()}, problems


def errors(problems: list[Diagnostic]) -> list[str]:
    return [p.message for p in problems if p.severity == "error"]


# --- one dialogue series on every model -----------------------------------------------------


def seller(model: Model) -> str | None:
    """The target that sells ``model`` (None: DashScope's native API, where it serves it)."""
    return None if model.id in DASHSCOPE.models else next(
        name for name, t in TARGETS.items() if model.id in t.models)


def model_shot(model: Model) -> str:
    """A shot of ``model``'s own kind with mia's line and a narrator heard over it."""
    caps = model.caps
    resolution = "720P" if "720P" in caps.resolutions else caps.resolutions[0]
    lengths = model.lengths(resolution)
    duration = lengths[0] if lengths else max(4, caps.min_duration)
    frame = {"first_frame": "first_frame: media/mia.png\n",
             "source_video": "source_video: media/edit.mp4\n"}
    start = next((f"  {frame[role]}" for role in model.needs if role in frame), "")
    who = "@mia" if model.takes_references else "she"
    return (f"- id: one\n  model: {model.id}\n  resolution: {resolution}\n"
            f"  duration: {duration}\n{start}  scenes:\n"
            f"    - {{at: 0-2s, action: \"{who} smiles\", say: {{mia: \"Hello...\"}}}}\n"
            f"    - {{at: 2-4s, action: \"the room\", say: {{narrator: \"It began here.\"}}, "
            "voiceover: true}\n")


NO_ROUTE = "say how this line reaches the lips"
# Each model: the route mia's line takes, or what check says instead (the narrator's is none).
ROUTES: dict[str, tuple[str, str]] = {
    **{m: ("voice_reference", "") for m in (
        "wan2.7-r2v", "wan3.0-video", "wan3.0-video-prime", "MiniMax/MiniMax-H3", "MiniMax-H3",
        "doubao-seedance-2-0-260128", "dreamina-seedance-2-0-260128",
        "doubao-seedance-2-5-260628", "dreamina-seedance-2-5-260628")},
    "wan2.7-i2v": ("driving_audio", ""),
    # they speak natively, in a voice of their own: mia's designed voice would be lost
    "happyhorse-1.1-r2v": ("voice_reference", "takes no voices: mia would speak"),
    "kling-v3-omni": ("voice_reference", "takes no voices: mia would speak"),
    # Kling 4.0 takes a voice made on Kling, by id: a designed voice is not one
    "kling-v4-omni": ("voice_reference", "takes voices by their id on kling only: mia"),
    "kling-v4-flash": ("voice_reference", "takes no voices: mia would speak"),
    "happyhorse-1.1-i2v": ("voice_reference", "takes no character references (@mia)"),
    "happyhorse-1.1-t2v": ("voice_reference", "takes no character references (@mia)"),
    # no route of their own: the series must choose
    "wan2.7-t2v": ("none", NO_ROUTE), "wan2.7-videoedit": ("none", NO_ROUTE),
    "MiniMax-Hailuo-2.3": ("none", NO_ROUTE),
}


def test_the_table_covers_every_declared_model() -> None:
    assert set(ROUTES) == set(MODELS)


@pytest.mark.parametrize("model_id", sorted(ROUTES))
def test_one_dialogue_series_compiles_to_each_model_with_its_route(
        tmp_path: Path, make_media: Callable[..., Path], model_id: str) -> None:
    model = MODELS[model_id]
    root = write_series(tmp_path, make_media, model_shot(model))
    shots, problems = compiled(root, seller(model))
    route, refused = ROUTES[model_id]
    assert route in model.routes or refused
    if refused:
        found = [p for p in problems if refused in p.message and p.severity == "error"]
        assert found and found[0].span is not None, errors(problems)
        return
    assert errors(problems) == []
    lines = [line for scene in shots["one"].request.scenes for line in scene.lines]
    assert [(ln.speaker, ln.route) for ln in lines] == [("mia", route), ("narrator", "none")]
    assert "It began here" not in shots["one"].request.prompt  # heard, never spoken on screen


# --- golden bodies, one shot a route ----------------------------------------------------------

ROUTE_SHOTS = """\
- id: spoken
  scenes:
    - {at: 0-3s, action: "@mia wipes the counter", say: {mia: "Morning! The usual?"}}
- id: driven
  model: wan2.7-i2v
  first_frame: media/mia.png
  duration: 4
  scenes:
    - {at: 1-3s, action: "the barista looks up", say: {mia: "Hello..."}}
- id: synced
  dialogue: {route: lipsync, pad: room_tone}
  scenes:
    - {at: 0-4s, action: "@mia raises her cup", say: {mia: "To retirement."}}
- id: narrated
  scenes:
    - {at: 0-2s, action: "@mia locks the door"}
    - {at: 2-5s, action: "the street at night", say: {narrator: "She never came back."},
       voiceover: true}
"""


def test_each_route_compiles_to_its_golden_body_and_lines(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = write_series(tmp_path, make_media, ROUTE_SHOTS)
    shots, problems = compiled(root)
    assert errors(problems) == []
    found: dict[str, Any] = {}
    for name, shot in shots.items():
        entry = shot_entry(shot, root)
        found[name] = {"body": DIALECTS["dashscope"].body(shot.request, url_for),
                       "lines": entry["lines"], "needs": sorted(shot.needs),
                       "prompt_form": shot_form(shot, root).splitlines()}
    text = json.dumps(found, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert [ln["route"] for s in ("spoken", "driven", "synced", "narrated")
            for ln in found[s]["lines"]] == ["voice_reference", "driving_audio", "lipsync", "none"]
    assert found["driven"]["body"]["input"]["media"][-1]["type"] == "driving_audio"
    assert found["driven"]["lines"][0]["audio"] == "{asset: lines/ep01/driven}"
    assert "lines/ep01/synced" in found["synced"]["needs"]  # the run makes the line first


def test_a_voiceover_line_is_never_routed_to_the_lips(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """On wan3.0-video a voiced speaker becomes an ``Audio n`` item: a narrator heard over the
    shot sends no voice, is no reference, and says nothing in the prompt."""
    shot = ROUTE_SHOTS.split("- id: narrated\n")[1]
    root = write_series(tmp_path, make_media, "- id: narrated\n  model: wan3.0-video\n" + shot)
    shots, problems = compiled(root)
    assert errors(problems) == []
    request = shots["narrated"].request
    assert [(m.role, m.character) for m in request.media] == [("reference_image", "mia")]
    assert "says" not in request.prompt and "never came back" not in request.prompt
    (line,) = [ln for scene in request.scenes for ln in scene.lines]
    assert (line.route, line.label) == ("none", "Narrator")
    assert line.audio == MediaRef(asset="lines/ep01/narrated/1")  # made, mixed into the episode
    assert "lines/ep01/narrated/1" not in str(shots["narrated"].canonical)  # never sent
    assert not any("'narrator' is never used" in p.message or "'old-voice' is never used"
                   in p.message for p in problems)  # heard off screen is used


# --- what check refuses, at the line ----------------------------------------------------------

REFUSED = [
    ("- id: a\n  dialogue: {route: driving_audio}\n  scenes:\n"
     "    - {at: 0-2s, action: \"@mia waves\", say: {mia: \"Hi there.\"}}\n",
     "wan2.7-r2v cannot take this line by driving_audio: it speaks the prompt's lines itself",
     (19, 52)),
    ("- id: a\n  model: wan2.7-i2v\n  first_frame: media/mia.png\n  scenes:\n"
     "    - {at: 0-2s, action: \"they talk\", say: {mia: \"Hi.\", narrator: \"Hello.\"}}\n",
     "a second line handed over as audio (driving_audio) in this shot (mia speaks the first)",
     (20, 63)),
    ("- id: a\n  dialogue: {route: lipsync}\n  scenes:\n"
     "    - {at: 0-2s, action: \"@sam waves\", say: {sam: \"Hi there.\"}}\n",
     "sam has voice 'clip-voice', a recorded clip; give the voice a design", (19, 52)),
    ("- id: a\n  model: wan2.7-videoedit\n  source_video: media/edit.mp4\n  scenes:\n"
     "    - {at: 0-2s, action: \"she waves\", say: {mia: \"Hi.\"}}\n",
     "wan2.7-videoedit neither speaks a line nor follows a driving audio: say how", (20, 51)),
    ("- id: a\n  dialogue: {route: lipsync}\n  scenes:\n"
     "    - {at: 0-2s, action: \"@mia and @sam\", say: {mia: \"Hi.\", sam: \"Oh.\"}}\n",
     "a second line handed over as audio (lipsync) in this shot (mia speaks the first)",
     (19, 67)),
    ("- id: a\n  scenes:\n    - {at: 0-2s, action: \"@mia waves\", say: {mia: \"Hi.\"}, "
     "voiceover: [sam]}\n",
     "'sam' says no line in this scene; expected one of its speakers: mia", (18, 77)),
]


@pytest.mark.parametrize(("shot", "message", "where"), REFUSED)
def test_check_refuses_a_route_at_the_line(tmp_path: Path, make_media: Callable[..., Path],
                                           shot: str, message: str,
                                           where: tuple[int, int]) -> None:
    _, problems = compiled(write_series(tmp_path, make_media, shot))
    found = [p for p in problems if message in p.message]
    assert found, errors(problems)
    assert found[0].severity == "error" and found[0].span is not None
    assert (found[0].span.line, found[0].span.col) == where


def test_check_on_the_command_line_says_the_route_error_at_file_line_col(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli
    root = write_series(tmp_path, make_media, REFUSED[0][0])
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "storyboard.yaml:19:52: error: wan2.7-r2v cannot take this line by driving_audio" \
        in result.stderr, result.stderr


def test_a_series_chooses_per_episode_and_shot_the_nearest_wins(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shots = ("- id: a\n  scenes:\n    - {at: 0-2s, action: \"@mia\", say: {mia: \"Hi.\"}}\n"
             "- id: b\n  dialogue: {route: voice_reference}\n  scenes:\n"
             "    - {at: 0-2s, action: \"@mia\", say: {mia: \"Hi.\"}}\n")
    root = write_series(tmp_path, make_media, shots)
    text = (root / "storyboard.yaml").read_text("utf-8").replace(
        "defaults: {resolution: 720P, ratio: \"16:9\"}",
        "defaults: {resolution: 720P, ratio: \"16:9\", dialogue: {route: none}}")
    (root / "storyboard.yaml").write_text(text.replace(
        "    shots:", "    defaults: {dialogue: {route: lipsync}}\n    shots:"), "utf-8")
    found, problems = compiled(root)
    assert errors(problems) == []
    routes = {name: [ln.route for sc in s.request.scenes for ln in sc.lines]
              for name, s in found.items()}
    assert routes == {"a": ["lipsync"], "b": ["voice_reference"]}


def test_a_route_that_is_not_one_is_a_schema_error_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = write_series(tmp_path, make_media, "- id: a\n  dialogue: {route: lipsinc}\n  scenes:\n"
                        "    - {at: 0-2s, action: \"@mia\", say: {mia: \"Hi.\"}}\n")
    _, problems = compiled(root)
    found = [p for p in problems if "lipsinc" in p.message and "did you mean 'lipsync'" in
             p.message]
    assert found and found[0].span is not None and found[0].span.line == 17


# --- short lines: padded, the words kept ------------------------------------------------------


def samples_of(path: Path) -> list[int]:
    with wave.open(str(path)) as wav:
        data = wav.readframes(wav.getnframes())
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        rate = wav.getframerate()
    values = [int.from_bytes(data[i:i + 2], "little", signed=True) for i in range(0, len(data), 2)]
    return [rate, *values]


@pytest.mark.parametrize("kind", ["silence", "room_tone"])
def test_a_short_line_is_padded_to_the_minimum_with_its_words_where_they_are(
        tmp_path: Path, kind: str) -> None:
    line = samples.voice(tmp_path / "line.wav", seconds=0.75)
    made = pad_line(line, tmp_path / "padded", lead=0.5, minimum=2.0, kind=kind)
    assert made.path != line and (made.seconds, made.words) == (2.0, (0.5, 1.25))
    rate, *words = samples_of(line)
    padded_rate, *got = samples_of(made.path)
    assert padded_rate == rate and len(got) == 2 * rate  # probed: the minimum, to the sample
    start = rate // 2
    assert got[start:start + len(words)] == words  # the author's words, unchanged, in place
    around = got[:start] + got[start + len(words):]
    loudest = max(abs(v) for v in around)
    assert loudest == 0 if kind == "silence" else 0 < loudest < 400  # quiet room tone
    assert max(abs(v) for v in words) > 10 * max(loudest, 1)
    first = made.path.read_bytes()
    made.path.unlink()
    assert pad_line(line, tmp_path / "padded", lead=0.5, minimum=2.0,
                    kind=kind).path.read_bytes() == first  # deterministic


def test_a_line_long_enough_is_handed_over_as_made_and_bad_numbers_fail_closed(
        tmp_path: Path) -> None:
    line = samples.voice(tmp_path / "line.wav", seconds=2.5)
    made = pad_line(line, tmp_path / "padded", lead=0.0, minimum=2.0)
    assert made.path == line and made.words == (0.0, 2.5)
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError, match="finite seconds"):
            padding(0.5, bad, 2.0)
    with pytest.raises(ValueError, match="expected one of silence, room_tone"):
        pad_line(line, tmp_path / "padded", lead=0.0, minimum=3.0, kind="noise")


def test_each_line_of_a_shot_has_the_window_its_route_promises(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shots, _ = compiled(write_series(tmp_path, make_media, ROUTE_SHOTS))
    found = windows(shots["driven"].request, {"lines/ep01/driven": 0.45})
    assert [(line.speaker, start, end) for line, start, end in found] == [("mia", 1.0, 1.45)]
    found = windows(shots["narrated"].request, {})
    assert [(line.route, start, end) for line, start, end in found] == [("none", 2.0, 5.0)]


def test_the_window_a_route_promises_is_the_words_not_the_padding() -> None:
    driven = Line("mia", "Mia", "Hello...", 1.0, 3.0, route="driving_audio", pad="silence")
    assert promised(driven, 0.75) == (1.0, 1.75)
    spoken = Line("mia", "Image 1", "Morning!", 0.0, 2.0)
    assert promised(spoken, 0.75) == (0.0, 2.0)


def test_a_warm_check_keeps_the_line_a_shot_hands_over(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """The process keeps resolved shots between checks: a kept shot's made line is still made."""
    from storyboard.language.cache import incremental
    from storyboard.language.compile import compile_path
    incremental.forget()
    root = write_series(tmp_path, make_media, ROUTE_SHOTS)
    for _ in range(2):
        manifest = compile_path(root)
        assert {a.id for a in manifest.cast if a.episode == "lines"} == {
            "ep01/driven", "ep01/synced", "ep01/narrated/1"}
    path = root / "storyboard.yaml"  # another shot edited: the episode is resolved anew
    path.write_text(path.read_text("utf-8").replace("locks the door", "shuts the door"), "utf-8")
    manifest = compile_path(root)
    assert {a.id for a in manifest.cast if a.episode == "lines"} == {
        "ep01/driven", "ep01/synced", "ep01/narrated/1"}


def test_broken_yaml_checked_for_a_gateway_is_a_located_error_not_a_traceback(
        tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli
    (tmp_path / "storyboard.yaml").write_text("storyboard: 1\ntitle: x\n  bad: [\n", "utf-8")
    result = CliRunner().invoke(cli, ["check", str(tmp_path), "--provider", "kling"])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "storyboard.yaml:3:6: error: invalid YAML" in result.stderr, result.stderr
