"""A version in another language on the emulator (issue 68, items 4 to 6): an approved
two-episode series with hand-written Spanish version files gets its lines made once each in the
speaker's own designed voice, a line over its window warned with the seconds, lip-sync passes
only on on-screen speakers over the approved takes, no video rendered again, ``out/es/``
episodes with Spanish subtitles; killed mid-render and run again, nothing is paid twice."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from storyboard.media import ffmpeg
from tests.fixtures.cast import cast_stats
from tests.fixtures.dashscope_cli import (
    KEY,
    Emulator,
    child_env,
    invoke,
    kill,
    submissions,
    wait_until,
)
from tests.fixtures.ffmpeg_runs import nothing_remembered

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

MakeMedia = Callable[..., Path]

SERIES = """\
storyboard: 1
title: Dubbed
languages: [en, es]
defaults: {resolution: 720P, ratio: "16:9", duration: 4}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
voices:
  mia-voice: {design: "warm, calm woman in her thirties",
              sample: "Morning! The usual, with oat milk and no sugar, as always?"}
  old-voice: {design: "an old man, slow and dry", sample: "It began here, in this town, years ago."}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
  narrator: {image: media/old.png, voice: old-voice}
episodes:
  - id: ep01
    shots:
      - id: hello
        scenes:
          - {at: 1-3s, action: "@mia raises her cup", say: {mia: "To us, and to the shop."}}
      - id: street
        scenes:
          - {at: 0-3s, action: "@mia walks down an empty street",
             say: {narrator: "She never came back."}, voiceover: true}
  - id: ep02
    shots:
      - id: door
        scenes:
          - {at: 0-4s, action: "@mia opens the door"}
      - id: bye
        scenes:
          - {at: 0-2s, action: "@mia waves", say: {mia: "Bye now."}}
"""

# Hand-written, as a person fixes a version: ep01's narrator line is far longer than its window.
EP01 = """\
language: es
source: en
episode: ep01
lines:
  - shot: hello
    n: 1
    speaker: mia
    at: 1-3s
    route: voice_reference
    source: "To us, and to the shop."
    text: "Por nosotros y por la tienda."
  - shot: street
    n: 1
    speaker: narrator
    at: 0-3s
    route: none
    source: "She never came back."
    text: "Ella nunca volvió a esta calle, ni a esta ciudad, ni a nosotros, nunca jamás."
"""
EP02 = """\
language: es
source: en
episode: ep02
lines:
  - shot: bye
    n: 1
    speaker: mia
    at: 0-2s
    route: voice_reference
    source: "Bye now."
    text: "Adiós."
"""
SHOTS = ("ep01/hello", "ep01/street", "ep02/door", "ep02/bye")
# ep02 alone, for a test that looks only at it: ep01's lines, pass and stitch would be for nothing.
ONLY_EP02 = ("--episode", "ep02")


def run(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    result = invoke(*args)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, report, result.stderr + result.stdout


Approved = Callable[..., tuple[Path, Any]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory,
             make_media: MakeMedia) -> tuple[Path, dict[str, Any]]:
    """The series rendered once for the module on an emulator of its own, every shot approved,
    its Spanish version written (by a user of its own): the series' folder and the voices the
    account designed on the way, which each test's emulator is given as the provider keeps
    them between runs."""
    base = tmp_path_factory.mktemp("dubbed-template")
    server = EmulatorServer(latency=0.3, plain_results=False, retry_after=0.1).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DASHSCOPE_API_KEY", KEY)
            patch.setenv("CI", "1")
            patch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
            patch.setenv("STORYBOARD_STATE_DIR", str(base / "state"))
            root = write(base, make_media)
        return root, dict(server.service.voices.voices)
    finally:
        server.stop()


@pytest.fixture
def approved(tmp_path: Path, rendered: tuple[Path, dict[str, Any]],
             emulator: Emulator) -> Approved:
    """``approved(latency=...)``: a copy of the module's rendered and approved series (its lock,
    takes and work folder) and a fresh emulator that has served none of it (only the account's
    designed voices are there): the series' folder and the emulator."""
    def make(latency: float = 0.3) -> tuple[Path, Any]:
        server = emulator(plain_results=False, latency=latency)
        server.service.voices.voices.update(rendered[1])
        root = tmp_path / "dubbed"
        shutil.copytree(rendered[0], root, symlinks=True)
        return root, server
    return make


def write(tmp_path: Path, make_media: MakeMedia) -> Path:
    root = tmp_path / "dubbed"
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    make_media("image", root / "media" / "old.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    code, _, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    for shot in SHOTS:
        code, _, said = run("approve", root, shot, "--force")
        assert code == 0, said
    folder = root / "languages" / "es"
    folder.mkdir(parents=True)
    (folder / "ep01.yaml").write_text(EP01, encoding="utf-8")
    (folder / "ep02.yaml").write_text(EP02, encoding="utf-8")
    return root


def loudest(video: Path, start: float, length: float) -> float:
    """The loudest sample in [start, start + length) of ``video``'s sound, in dB."""
    log = ffmpeg.run(["-ss", str(start), "-t", str(length), "-i", str(video), "-vn", "-af",
                      "volumedetect", "-f", "null", "-"])
    found = [line for line in log.splitlines() if "max_volume:" in line]
    return float(found[0].split("max_volume:")[1].split()[0])


def counts(emu: Any) -> tuple[int, int, int]:
    """Speech calls, lip-sync passes and every submission (video and passes) so far."""
    stats = emu.stats()
    return (stats["cast"]["requests"]["speech"], stats["requests"]["retalk"], submissions(emu))


def dub(root: Path, *which: str) -> tuple[int, dict[str, Any], str]:
    return run("version", "render", root, *(which or ("es",)), "--provider", "dashscope",
               "--yes", "--json")


def tracks_laid(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each ffmpeg run that lays a pass's track (its lines at their windows) lays, from now
    on (each still run), nothing remembered from before."""
    nothing_remembered(monkeypatch)
    run, seen = ffmpeg.run, []

    def spied(args: list[str], **kwargs: Any) -> str:
        what = str(kwargs.get("what", ""))
        if what.startswith("laying the lines of "):
            seen.append(what)
        return run(args, **kwargs)

    monkeypatch.setattr(ffmpeg, "run", spied)
    return seen


def test_a_spanish_version_is_dubbed_relipped_and_stitched_without_rendering_video(
        approved: Approved, monkeypatch: pytest.MonkeyPatch) -> None:
    root, server = approved()
    speech, passes, submitted = counts(server)
    laid = tracks_laid(monkeypatch)
    code, report, said = dub(root)
    assert code == 0, said
    assert len(laid) == 2, laid  # each pass's track laid once, however often the run asks
    version = report["versions"][0]
    # one plan priced the lines and both passes (a pass by its take's seconds) before spending
    planned = {s["key"]: s for s in version["planned"] if s["status"] == "new"}
    assert set(planned) == {"dubbed/lines/es/ep01/hello/1", "dubbed/lines/es/ep01/street/1",
                            "dubbed/lines/es/ep02/bye/1", "dubbed/es/ep01/hello",
                            "dubbed/es/ep02/bye"}, planned
    relip = planned["dubbed/es/ep01/hello"]
    assert relip["cost"] == pytest.approx(relip["duration"] * 0.011469, abs=1e-4)
    assert version["planned_cost"] == pytest.approx(sum(s["cost"] for s in planned.values()))
    # each line made once, in its speaker's own designed voice, in Spanish
    assert counts(server)[0] - speech == 3
    assert server.stats()["cast"]["languages"].get("Spanish") == 3
    lines = {s["key"]: s["state"] for s in version["shots"] if "/lines/" in s["key"]}
    assert lines == {"dubbed/lines/es/ep01/hello/1": "done", "dubbed/lines/es/ep01/street/1": "done",
                     "dubbed/lines/es/ep02/bye/1": "done"}, version["shots"]
    # lip-sync passes only over the on-screen speakers' root takes; no video rendered again
    assert sorted(version["passes"]) == ["ep01/hello", "ep02/bye"]
    assert counts(server)[1] - passes == 2
    assert counts(server)[2] - submitted == 2  # the two passes: 0 video renders
    lock = json.loads((root / "storyboard.lock").read_text("utf-8"))
    for shot in ("ep01/hello", "ep02/bye"):
        entry = lock["shots"][f"dubbed/es/{shot}"]
        assert entry["parameters"]["model"] == "videoretalk"
    # the narrator's line is over its 3 s window: measured, said with the seconds over
    seconds = version["seconds"]["lines/es/ep01/street/1"]
    assert seconds > 3.5
    assert len(version["fits"]) == 1, version["fits"]
    over = version["fits"][0]
    assert over.startswith(f"{root / 'languages' / 'es' / 'ep01.yaml'}:")
    assert f"lasts {seconds:.2f} s as made, {seconds - 3:.2f} s over its 3 s window" in over
    # kept with the line: `check` warns at it too, from the measurement, for these words
    result = invoke("check", root)
    assert f"{seconds - 3:.2f} s over its 3 s window" in result.stdout + result.stderr
    # out/es/: each episode with Spanish subtitles beside it; the original's episodes untouched
    for episode in ("ep01", "ep02"):
        video = root / "out" / "es" / f"{episode}.mp4"
        assert video.is_file() and ffmpeg.probe(video).duration
    # the Spanish line is heard at its window (the emulator's takes are silent: what becomes of
    # a take's own sound is tests/run/test_run_versions_episodes.py's)
    dubbed = root / "out" / "es" / "ep01.mp4"
    assert loudest(dubbed, 1.1, 1.2) > -40
    srt = (root / "out" / "es" / "ep01.srt").read_text("utf-8")
    vtt = (root / "out" / "es" / "ep01.vtt").read_text("utf-8")
    assert "Por nosotros" in srt and "Por nosotros" in vtt and "To us" not in srt
    assert "Adiós." in (root / "out" / "es" / "ep02.srt").read_text("utf-8")
    assert "To us" in (root / "out" / "ep01.srt").read_text("utf-8")

    # the exports carry the language: the version's clips, its name, its metadata
    code, exported, said = run("export", root, "--language", "es", "--provider", "dashscope",
                               "--json")
    assert code == 0, said
    timeline = json.loads((root / "out" / "es" / "ep01.es.otio").read_text("utf-8"))
    assert timeline["name"] == "ep01 (es)"
    assert timeline["metadata"]["storyboard"]["language"] == "es"
    urls = json.dumps(timeline["tracks"])
    assert "stitch-cache/heard/" in urls  # each dubbed shot plays the version's clip
    assert [f["episode"] for f in exported["files"]] == ["ep01", "ep02"]

    # a second render makes nothing: no speech, no pass, no submission
    before = counts(server)
    code, report, said = dub(root)
    assert code == 0, said
    assert counts(server) == before
    assert {s["state"] for s in report["versions"][0]["shots"]} == {"cached"}
    assert {e["state"] for e in report["versions"][0]["episodes"]} == {"up to date"}


def test_a_hand_edit_of_a_line_makes_that_line_and_its_pass_again_only(
        approved: Approved) -> None:
    root, server = approved()
    assert dub(root)[0] == 0
    before = counts(server)
    path = root / "languages" / "es" / "ep02.yaml"
    path.write_text(EP02.replace('"Adiós."', '"Hasta luego."'), encoding="utf-8")
    code, report, said = dub(root, "--all")  # every language of the series but the first
    assert code == 0, said
    assert [v["language"] for v in report["versions"]] == ["es"]
    after = counts(server)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)  # one line, one pass
    assert "Hasta luego." in (root / "out" / "es" / "ep02.srt").read_text("utf-8")


def test_a_translations_markup_is_text_in_the_versions_subtitles(approved: Approved) -> None:
    """A translation holding ASS and HTML markup is escaped in the version's sidecars as in the
    original's (docs/episodes.md): no player moves it up, hides it or sets it in italics."""
    root, _ = approved()
    said = "{\\\\an8}Adiós <i>amigo</i>\\\\N&amp;"  # YAML double quotes: {\an8}Adiós <i>amigo</i>\N&amp;
    path = root / "languages" / "es" / "ep02.yaml"
    path.write_text(EP02.replace('"Adiós."', f'"{said}"'), encoding="utf-8")
    code, _, out = dub(root, "es", *ONLY_EP02)
    assert code == 0, out
    joiner = "\u2060"
    srt = (root / "out" / "es" / "ep02.srt").read_text("utf-8")
    vtt = (root / "out" / "es" / "ep02.vtt").read_text("utf-8")
    assert (f"\\{{{joiner}\\{joiner}an8\\}}Adiós <{joiner}i>amigo<{joiner}/i>\\{joiner}N&amp;"
            in srt), srt
    assert "{\\an8}Adiós &lt;i&gt;amigo&lt;/i&gt;\\N&amp;amp;" in vtt, vtt


def test_a_shot_not_approved_refuses_the_version_naming_it(approved: Approved) -> None:
    root, server = approved()
    before = counts(server)
    code, _, said = run("version", "render", root, "es", "--provider", "dashscope")
    assert code != 0 and counts(server) == before, said  # no consent: nothing spent
    lock_file = root / "storyboard.lock"
    lock = json.loads(lock_file.read_text("utf-8"))
    lock["takes"]["dubbed/ep02/door"].pop("approved")
    lock_file.write_text(json.dumps(lock), encoding="utf-8")
    code, _, said = dub(root)
    assert code != 0 and "ep02/door" in said and "approve" in said and "Traceback" not in said
    assert counts(server) == before  # nothing paid
    assert not (root / "out" / "es").exists()
    code, _, said = dub(root, "fr")
    assert code != 0 and "storyboard.yaml:3:1" in said and "'fr' is not one of" in said, said


def dub_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "storyboard", "version", "render", str(root), "es",
            "--provider", "dashscope", "--yes", "--quiet"]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_version_killed_mid_render_pays_nothing_twice(approved: Approved) -> None:
    root, server = approved(latency=2.0)
    speech, passes, submitted = counts(server)
    child = subprocess.Popen(dub_command(root), env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        wait_until("a pass's submission", lambda: submissions(server) > submitted, child)
    finally:
        kill(child)
    assert not (root / "out" / "es" / "ep01.mp4").exists()  # killed before it was stitched
    # a pass killed between its submit and its answer is found by the next run, not sent
    # again; a second pass waits for it meanwhile (the two have no prompt to tell them
    # apart), so the version may take one more run to finish
    for _ in range(2):
        again = subprocess.run(dub_command(root), env=child_env(), capture_output=True,
                               timeout=300, check=False)
        if again.returncode == 0:
            break
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    stats = server.stats()
    assert counts(server)[0] - speech == 3  # each line spoken once
    assert counts(server)[1] - passes == 2 and submissions(server) - submitted == 2
    assert stats["submissions"]["duplicates"] == 0
    assert (root / "out" / "es" / "ep01.mp4").is_file()


def test_a_budget_holds_for_a_version_as_for_any_render(approved: Approved) -> None:
    root, server = approved()
    speech, passes, submitted = counts(server)
    code, report, said = dub(root, "es", "--budget", "0.02")
    assert code == 1, said  # the lines fit the budget, the passes (about 0.06 USD) do not
    version = report["versions"][0]
    assert version["spent"] <= 0.02
    assert counts(server)[0] - speech == 3 and counts(server)[1] == passes
    assert submissions(server) == submitted  # no pass sent, and no video
    skipped = {s["key"] for s in version["shots"] if s["state"] == "skipped"}
    assert skipped == {"dubbed/es/ep01/hello", "dubbed/es/ep02/bye"}, version["shots"]
    assert not (root / "out" / "es" / "ep01.mp4").exists()


# The version's lines planned at 0.00 by the series' own price; each is billed at its list price.
SPEECH_FREE = ("provider: {name: dashscope, poll: [0.2]}",
               "provider: {name: dashscope, poll: [0.2], "
               "prices: {qwen3-tts-vd-2026-01-26: {each: 0}}}")
SPEECH = 0.1 / 10_000  # qwen3-tts-vd-2026-01-26's list price (USD) of a character spoken


def test_lines_over_their_plan_leave_the_passes_only_what_is_left_of_the_budget(
        approved: Approved) -> None:
    """The plan (lines 0.00, passes P) is admitted under --budget P plus half what the lines are
    billed; the lines are made, so the passes have less than P left: one is left out, and the
    version's spend (the lines and passes at their list prices) stays within --budget."""
    root, server = approved()
    text = root / "storyboard.yaml"
    text.write_text(text.read_text("utf-8").replace(*SPEECH_FREE), encoding="utf-8")
    code, planned, said = run("plan", root, "--language", "es", "--provider", "dashscope",
                              "--json")
    assert code == 0, said
    passes, lines = planned["passes"]["cost"], planned["lines"]
    assert passes > 0 and lines["cost"] == 0
    budget = round(passes + lines["characters"] * SPEECH / 2, 4)
    speech, retalks, _ = counts(server)
    characters = server.stats()["cast"]["characters"]
    code, report, said = dub(root, "es", "--budget", f"{budget}")
    assert code == 1, said  # a pass left out by what the lines left
    version = report["versions"][0]
    states = {s["key"]: s for s in version["shots"]}
    assert counts(server)[0] - speech == 3 and counts(server)[1] - retalks == 1
    assert [s["state"] for k, s in states.items() if k.startswith("dubbed/es/")].count(
        "skipped") == 1, version["shots"]
    lines = (server.stats()["cast"]["characters"] - characters) * SPEECH
    made = sum(s["cost"] for k, s in states.items()
               if k.startswith("dubbed/es/") and s["state"] == "done")
    assert lines > 0 and lines + made <= budget, (lines, made, budget)


def test_a_versions_burnt_subtitles_differ_from_the_plain_version_inside_the_safe_area(
        approved: Approved, tmp_path: Path) -> None:
    """``burn_subtitles`` in a version, held by its pixels (as the original's is in
    tests/cli/test_cli_season_paid.py): the version's episode stitched with its Spanish line
    burnt in differs from the one without only inside the vertical safe area, and there it
    does differ; the lines and passes are made once, the second stitch pays nothing and is
    told as it goes."""
    from storyboard.stitch.series.delivery import VERTICAL_SAFE_AREA
    from tests.cli.test_cli_season_paid import gray_frame
    root, server = approved()
    text = root / "storyboard.yaml"
    second = root / "languages" / "es" / "ep02.yaml"  # its card's "Episode 2", in Spanish
    second.write_text(EP02.replace("lines:\n", 'label: {source: "Episode 2", text: "Episodio 2"}'
                                               "\nlines:\n"), encoding="utf-8")
    frames = {}
    for burn in ("false", "true"):
        text.write_text(SERIES.replace("output: {loudness: null}\n", "output: {loudness: null}\n"
                                       f"delivery: {{preset: vertical, burn_subtitles: {burn}}}\n"),
                        encoding="utf-8")
        submitted = counts(server)[2]
        code, _, said = dub(root, "es", *ONLY_EP02) if burn == "false" else run(
            "version", "render", root, "es", *ONLY_EP02, "--provider", "dashscope", "--yes")
        assert code == 0, said
        assert burn == "false" or counts(server)[2] == submitted  # only stitched again
        said_lines = said.splitlines()  # without --json the stitching is told as it goes
        assert burn == "false" or ("stitching ep02" in said_lines and any(
            line.startswith("stitched ep02 in ") for line in said_lines)), said
        cue = (root / "out" / "es" / "ep02.srt").read_text("utf-8").split("\n\n")[0]
        assert "Adiós." in cue
        start, end = (_srt_seconds(t) for t in cue.splitlines()[1].split(" --> "))
        frames[burn] = gray_frame(root / "out" / "es" / "ep02.mp4", (start + end) / 2,
                                  tmp_path / f"{burn}.gray")
    assert _card(root, "ep02", "Episodio 2").is_file()  # the version's card says its label
    assert not _card(root, "ep02", None).is_file()  # never the original's words
    width, plain = frames["false"]
    burnt = frames["true"][1]
    assert width == 1080 and len(plain) == len(burnt) == 1080 * 1920
    changed = [i for i, (a, b) in enumerate(zip(plain, burnt, strict=True)) if abs(a - b) > 48]
    assert len(changed) > 200, "no subtitle burnt in"
    xs, ys = [i % width for i in changed], [i // width for i in changed]
    top, bottom, left, right = VERTICAL_SAFE_AREA.pixels(1080, 1920)
    assert min(ys) >= top and max(ys) <= 1920 - bottom
    assert min(xs) >= left and max(xs) <= 1080 - right


def _card(root: Path, episode: str, label: str | None) -> Path:
    """Where the delivered title card of ``episode`` is kept, its number said as ``label``."""
    from storyboard.language.compile import compile_lenient
    from storyboard.language.read.series import load_source
    from storyboard.stitch.series.episodes import EpisodeBuilder
    manifest, _ = compile_lenient(load_source(root))
    assert manifest is not None
    builder = EpisodeBuilder(manifest, root / "out" / "es", draft=False)
    builder.labels = {episode: label} if label else {}
    found = builder.card(next(e for e in manifest.episodes if e.id == episode), "title_card",
                         render=False)
    assert found is not None
    return found


def _srt_seconds(stamp: str) -> float:
    clock, _, millis = stamp.strip().partition(",")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return hours * 3600 + minutes * 60 + seconds + int(millis) / 1000


# Issue 83, item 8: a line killed inside its speech call names what settles it, which works

@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_line_killed_in_its_speech_call_names_the_command_that_settles_it(
        approved: Approved) -> None:
    root, server = approved()
    server.script("speech:lost=10")  # spoken and billed; its answer would come 10 s later
    before = cast_stats(server)["characters"]
    child = subprocess.Popen(dub_command(root), env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        wait_until("a line's speech call", lambda: cast_stats(server)["characters"] > before,
                   child)
    finally:
        kill(child)
    server.clear_faults()
    code, _, said = dub(root)  # the lines not in flight are spoken; the one killed waits
    spoken = counts(server)[0]
    stuck = [line for line in said.splitlines() if line.startswith("error: ") and "pending" in line]
    # the line whose call was in flight (which one reached the server first is the scheduler's)
    assert code == 1 and stuck and all(any(f"lines/es/{shot}/1" in line for shot in SHOTS)
                                       for line in stuck), said
    assert dub(root)[0] == 1 and counts(server)[0] == spoken  # a run more never settles it
    for line in stuck:
        assert "next run asks again" not in line and "no later run can settle it" in line, line
        assert "task adopt" not in line  # a speech call leaves no task id to adopt
        key = line.split(": ", 2)[1].split("/", 1)[1]  # dubbed/lines/es/... -> lines/es/...
        start = line.index("`storyboard task forget ")
        words = shlex.split(line[start + 1:line.index("`", start + 1)])[1:]
        assert words == ["task", "forget", str(root), key], line
        forgot = CliRunner().invoke(cli, words, input="y\n")  # pasted as it is; it asks first
        assert forgot.exit_code == 0, forgot.output
    code, _, said = dub(root)
    assert code == 0, said  # settled: the version is made
    assert counts(server)[0] == spoken + len(stuck)  # spoken again once, as the person said
    assert (root / "out" / "es" / "ep01.mp4").is_file()


@pytest.mark.parametrize("linked", ["out/es", ".storyboard/languages/es"])
def test_a_folder_the_version_writes_into_linked_outside_is_never_written_through(
        approved: Approved, tmp_path: Path, linked: str) -> None:
    """``out/es`` (its episodes, subtitles) or ``.storyboard/languages/es`` (its lines' seconds)
    a link to a folder outside the series: the version stops naming it before a line is made,
    and nothing is written where the link points."""
    root, server = approved()
    before = counts(server)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = root / linked
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    code, _, said = dub(root)
    assert code != 0 and f"{folder} is a link (to {elsewhere})" in said, said
    assert counts(server) == before and list(elsewhere.iterdir()) == []


def test_a_version_file_linked_outside_is_never_read(approved: Approved, tmp_path: Path) -> None:
    """``languages/es/ep02.yaml`` a link to a version outside the series: refused at the file
    before a line is made, its words neither spoken nor said."""
    root, server = approved()
    before = counts(server)
    secret = tmp_path / "elsewhere.yaml"
    secret.write_text(EP02.replace('"Adiós."', '"TOP-SECRET words"'), encoding="utf-8")
    version = root / "languages" / "es" / "ep02.yaml"
    version.unlink()
    version.symlink_to(secret)
    code, _, said = dub(root)
    assert code != 0 and f"{version}:1:1: error: this version file leads outside" in said, said
    assert "TOP-SECRET" not in said and counts(server) == before
    assert not (root / "out" / "es").exists()
