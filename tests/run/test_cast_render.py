"""A series whose cast is all generated, rendered through the emulator (issue 36).

Two characters with two takes each, a place and one designed voice: exactly one request per take
and voice, none on a second render (none twice after SIGKILLs: test_cast_loop); a lost
voice-design answer is adopted from the account's list; picking another sheet marks exactly the
shots that use it as changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator.faults import CAST_ENDPOINTS
from tests.fixtures.cast import CAST, IMAGE_TAKES, SHOTS, SPOKEN, cast_stats, lock_of, plan_of
from tests.fixtures.dashscope_cli import Emulator, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment


def write(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(CAST, encoding="utf-8")
    return root


def test_plan_prices_the_cast_before_anything_is_made(tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    series = write(tmp_path / "cast")
    plan = plan_of(series)
    assert [k for k in plan if k.startswith(("cast/", "voices/"))] == [
        "cast/mia", "cast/mia#2", "cast/sam", "cast/sam#2", "cast/cafe", "voices/mia-voice"]
    assert plan["cast/mia"] == ("new", 0.03) and plan["voices/mia-voice"] == ("new", 0.2)
    assert all(status == "new" for status, _ in plan.values())
    assert cast_stats(emu)["requests"] == dict.fromkeys(CAST_ENDPOINTS, 0)
    assert submissions(emu) == 0


def test_a_generated_cast_is_made_once_and_then_never_again(tmp_path: Path,
                                                            emulator: Emulator) -> None:
    emu = emulator()
    series = write(tmp_path / "cast")
    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"done"}
    stats = cast_stats(emu)
    assert stats["images"] == IMAGE_TAKES and stats["voices"] == 1, stats
    assert submissions(emu) == SHOTS
    shots = lock_of(series)["shots"]
    assert shots["cast/cast/mia#2"]["hash"].endswith(".png")
    assert shots["cast/voices/mia-voice"]["hash"].endswith(".wav")

    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"cached"}
    assert cast_stats(emu) == stats and submissions(emu) == SHOTS

    picked = invoke("pick", series, "cast/mia", "2")
    assert picked.exit_code == 0, picked.output
    assert lock_of(series)["takes"]["cast/cast/mia"]["picked"] == 2
    plan = plan_of(series)
    changed = {k for k, (status, _) in plan.items() if status == "changed"}
    assert changed == {"ep01/hello", "ep01/both"}  # the shots with @mia; not ep01/waves
    assert plan["cast/mia#2"] == ("cached", 0.0)
    code, _, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == SHOTS + 2 and cast_stats(emu)["images"] == IMAGE_TAKES


def test_a_lost_voice_design_answer_is_adopted_not_made_again(tmp_path: Path,
                                                              emulator: Emulator) -> None:
    emu = emulator()
    emu.script("voice:lost")
    series = write(tmp_path / "cast")
    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert cast_stats(emu)["voices"] == 1  # created once: found again by its name
    voice = next(s for s in report["shots"] if s["key"].endswith("voices/mia-voice"))
    assert voice["state"] == "done"


def test_a_teammate_takes_the_cast_from_the_store(tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    alice = tmp_path / "alice" / "cast"
    alice.mkdir(parents=True)
    (alice / "storyboard.yaml").write_text(CAST.replace("episodes:\n", "store: ../../store\n"
                                                        "episodes:\n", 1), encoding="utf-8")
    code, _, err = render(alice, "--yes")
    assert code == 0, err
    made = cast_stats(emu)
    bob = tmp_path / "bob" / "cast"
    shutil.copytree(alice, bob, ignore=shutil.ignore_patterns(".storyboard", "out"))
    code, report, err = render(bob, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"cached"}  # every asset and shot: stored
    assert cast_stats(emu) == made and submissions(emu) == SHOTS
    sheets = sorted((bob / ".storyboard" / "cache").rglob("*.png"))
    assert len(sheets) == IMAGE_TAKES and all(p.read_bytes()[:4] == b"\x89PNG" for p in sheets)


def test_a_line_spoken_in_a_designed_voice_drives_a_shot(tmp_path: Path, emulator: Emulator,
                                                         make_media: Any) -> None:
    emu = emulator()
    series = tmp_path / "spoken"
    make_media("image", series / "media" / "still.png", width=640, height=360)
    (series / "storyboard.yaml").write_text(SPOKEN, encoding="utf-8")
    plan = plan_of(series)
    assert plan["lines/ep01/speaks"][0] == "new" and plan["lines/ep01/speaks"][1] > 0
    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"done"}
    stats = cast_stats(emu)
    assert stats["requests"]["speech"] == 1 and stats["voices"] == 1
    assert stats["languages"] == {"English": 1}  # the voice's declared language, not "Auto"
    assert stats["characters"] == len(SPOKEN.split("say: \"")[1].split("\"")[0])
    assert submissions(emu) == 2
    code, report, err = render(series, "--yes")
    assert code == 0 and cast_stats(emu) == stats and submissions(emu) == 2


def test_retake_after_init_makes_the_cast_first_in_one_plan_and_consent(
        tmp_path: Path, emulator: Emulator) -> None:
    """Issue 45.6, the README tour: ``retake`` of a shot whose cast was never made makes the
    sheet and the voice first (priced in the same plan, under the same consent), then the takes;
    each is paid once, and a later render pays for neither again."""
    emu = emulator()
    series = tmp_path / "my-series"
    assert invoke("init", series).exit_code == 0
    text = (series / "storyboard.yaml").read_text("utf-8")
    (series / "storyboard.yaml").write_text(text + "provider: {name: dashscope, poll: [0.2]}\n"
                                            "output: {loudness: null}\n", "utf-8")
    refused = invoke("retake", series, "ep01/arrival", "-n", "2", "--json")
    assert refused.exit_code != 0 and submissions(emu) == 0
    assert cast_stats(emu)["requests"] == dict.fromkeys(CAST_ENDPOINTS, 0)
    taken = invoke("retake", series, "ep01/arrival", "-n", "2", "--yes", "--json")
    assert taken.exit_code == 0, taken.output
    report = json.loads(taken.stdout)
    states = {s["key"].split("/", 1)[1]: s["state"] for s in report["shots"]}
    assert states == {"cast/ada": "done", "voices/ada-voice": "done",
                      "ep01/arrival#2": "done", "ep01/arrival#3": "done"}, states
    stats = cast_stats(emu)
    assert stats["images"] == 1 and stats["voices"] == 1 and submissions(emu) == 2
    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert cast_stats(emu)["images"] == 1 and cast_stats(emu)["voices"] == 1
    assert submissions(emu) == 4  # arrival and sketch, once each; the takes and cast not again


def test_a_shot_alone_makes_the_cast_it_uses_first(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    series = write(tmp_path / "cast")
    _, report, _ = render(series, "--yes", "ep01/waves")  # ep01 not stitched: 1
    assert {s["key"].split("/", 1)[1]: s["state"] for s in report["shots"]} == {
        "cast/sam": "done", "cast/cafe": "done", "ep01/waves": "done"}  # the takes it uses
    assert cast_stats(emu)["images"] == 2 and submissions(emu) == 1
    made = invoke("render", series, "--provider", "dashscope", "--yes", "--json",
                  "cast/*", "voices/*")
    assert all(s["state"] in ("done", "cached") for s in json.loads(made.stdout)["shots"])
    assert cast_stats(emu)["images"] == IMAGE_TAKES and cast_stats(emu)["voices"] == 1


def test_the_make_it_first_hint_names_the_series_folder(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.language.compile import compile_path
    from storyboard.run.state.castinputs import not_made
    series = write(tmp_path / "my series")
    shot = compile_path(series).episode_shots()[0]
    monkeypatch.chdir(tmp_path)
    hint = not_made("cast/mia", shot, "is not made", series)
    assert hint.endswith("make it first: storyboard render 'my series' cast/mia")
    assert "SERIES" not in hint


SHORT_LINE = """\
storyboard: 1
title: Short
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
voices:
  ada-voice: {design: "a warm, calm woman", sample: "Morning! The usual flat white?"}
characters:
  ada: {image: {generate: "a young engineer with brass goggles"}, voice: ada-voice}
episodes:
  - id: ep01
    shots:
      - {id: a, prompt: "@ada waves"}
      - id: short
        model: wan2.7-i2v
        first_frame: {from: a}
        driving_audio: {say: "Now, where did I put that spanner?", voice: ada-voice}
        prompt: "she searches the bench"
      - id: long
        model: wan2.7-i2v
        first_frame: {from: a}
        driving_audio: {say: "Now, where did I put that spanner? It was here a minute ago.",
                        voice: ada-voice}
        prompt: "she searches the floor"
      - id: hello
        model: wan2.7-i2v
        first_frame: {from: a}
        duration: 3
        dialogue: {pad: room_tone}
        scenes:
          - {at: 1-3s, action: "she looks up", say: {ada: "Hello..."}}
"""


def test_a_line_shorter_than_the_driving_audio_minimum_is_padded_and_spoken(
        tmp_path: Path, emulator: Emulator) -> None:
    """Issue 59.2: a line shorter than wan2.7-i2v's 2 s of driving audio is padded to 2 s
    (silence, or room tone as declared) when it is handed over, its words unchanged and where
    its scene puts them; the service takes it (the emulator refuses driving audio under 2 s)."""
    import wave
    emu = emulator()
    series = tmp_path / "short"
    series.mkdir()
    (series / "storyboard.yaml").write_text(SHORT_LINE, "utf-8")
    checked = invoke("check", series)
    assert checked.exit_code == 0 and "warning" not in checked.stderr, checked.stderr
    code, report, err = render(series, "--yes")
    assert code == 0, err
    assert {s["state"] for s in report["shots"]} == {"done"}
    assert submissions(emu) == 4  # a, short, long and hello: each sent, once
    padded = sorted((series / ".storyboard" / "padded").glob("*.wav"))
    assert len(padded) == 2  # the short line (silence) and hello (room tone, 1 s in)
    for path in padded:
        with wave.open(str(path)) as wav:
            assert wav.getnframes() == 2 * wav.getframerate()  # the model's minimum, exactly
    render(series, "--yes")
    assert submissions(emu) == 4  # nothing sent again


def test_local_and_emulator_lines_last_as_the_estimate_says() -> None:
    import io
    import wave

    from storyboard.animatic.cast import line_seconds
    from storyboard.emulator.cast.standins import speech
    from storyboard.targets.cast.assets import spoken_seconds
    for text in ("Hi!", "Now, where did I put that spanner?", "你好，今天怎么样？"):
        with wave.open(io.BytesIO(speech(text, "v"))) as wav:
            emulated = wav.getnframes() / wav.getframerate()
        assert abs(emulated - spoken_seconds(text)) < 0.01, text
        assert line_seconds(text) == spoken_seconds(text)
    assert spoken_seconds("Now, where did I put that spanner?") == 1.7
    assert spoken_seconds("你好，今天怎么样？") == 1.8


SHORT_VOICE = CAST.replace("Morning! The usual flat white?", "Beer's ready!")


def test_a_shot_whose_voice_is_too_short_waits_unpaid_in_render_and_plan(
        tmp_path: Path, emulator: Emulator) -> None:
    """54.7: the voice is made (and paid) once, measured 0.65 s, under a reference voice's 1 s;
    every shot that would send it waits, unpaid, saying why and how to fix it; the others run.
    The plan then says the same of those shots, at no cost."""
    emu = emulator()
    series = tmp_path / "short"
    series.mkdir()
    (series / "storyboard.yaml").write_text(SHORT_VOICE, encoding="utf-8")
    code, report, err = render(series, "--yes")
    # check warned first: in one line, naming the warning's kind and where each is shown
    assert code != 0 and "1 warning(s) in the series (1 sample-length)" in err
    assert "storyboard check" in err
    by_shot = {s["key"].split("/", 1)[1]: s for s in report["shots"]}
    for key in ("ep01/hello", "ep01/both"):  # the shots with @mia (and her voice)
        assert by_shot[key]["state"] == "blocked", by_shot[key]
        assert "voices/mia-voice" in by_shot[key]["message"]
        assert "lasts 0.65 s" in by_shot[key]["message"]
        assert "lengthen its sample" in by_shot[key]["message"]
    assert by_shot["ep01/waves"]["state"] == "done"
    assert cast_stats(emu)["voices"] == 1 and submissions(emu) == 1  # only ep01/waves
    shots = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    planned = {s["key"].split("/", 1)[1]: (s["status"], s["cost"], s["note"])
               for s in shots["shots"]}
    for key in ("ep01/hello", "ep01/both"):
        status, cost, note = planned[key]
        assert status == "new" and cost == 0 and "0.65 s" in note
        assert note.startswith("waits: voices/mia-voice")
    assert planned["ep01/waves"][:2] == ("cached", 0.0)
