"""What a new user read, said once per cause, at the place to change, with a change that works
(issue 58.5): one error for a value the schema refuses and for a model's limit a gateway shares,
nothing blamed on a shot for a broken one before it, a voiceless speaker warned of, a near-miss
provider answered, a never-rendered pick said plainly, a budget's advice that runs, prose pointed
to ``breakdown``, ``init --from``'s unsettled words counted once outside ``check``, a finding on
every take said to be beyond ``retake``, and the breakdown's consent in ``render``'s money."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import storyboard
from tests.fixtures.cli import invoke as run
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: New
defaults: {{resolution: {resolution}, ratio: "16:9", duration: {duration}{model}}}
voices:
  ada-voice: {{design: "a warm, calm woman", sample: "Morning! The usual?"}}
characters:
  ada:
    image: {{generate: "a young engineer with brass goggles"}}
    {voice}
  bob: {{image: {{generate: "a tall man in a grey coat"}}}}
episodes:
  - id: ep01
    shots:
{shots}
"""
SHOTS = """\
      - {id: a, prompt: "@ada waves"}
      - id: b
        scenes:
          - {at: 0-2s, action: "@bob turns", say: {bob: "Morning!"}}
      - {id: c, prompt: "@bob sits", say: {}}
"""


def write(root: Path, *, resolution: str = "720P", duration: str = "2", model: str = "",
          voice: str = "voice: ada-voice", shots: str = SHOTS) -> Path:
    root.mkdir(parents=True)
    text = SERIES.format(resolution=resolution, duration=duration, voice=voice, shots=shots,
                         model=f", model: {model}" if model else "")
    (root / "storyboard.yaml").write_text(text.replace(', say: {}', ''), encoding="utf-8")
    return root


def errors(series: Path, provider: str | None = None) -> list[str]:
    return [f"{d.span.line}:{d.span.col}: {d.message}" if d.span else d.message
            for d in storyboard.check(series, provider=provider) if d.severity == "error"]


# --- one error per cause -----------------------------------------------------------------------


def test_a_value_the_schema_refuses_is_one_error(tmp_path: Path) -> None:
    assert errors(write(tmp_path / "s", resolution="4K")) == [
        "3:24: expected one of 480P, 720P, 1080P, 768P, 2K; got '4K'"]


def test_a_short_shot_on_seedance_through_a_gateway_is_one_error_at_its_default(
        tmp_path: Path) -> None:
    series = write(tmp_path / "s", model="dreamina-seedance-2-0-260128")
    found = [e for e in errors(series, "modelark") if " s shot" in e]
    assert found == [  # the default, once for the shots that inherit it; b's scenes set its own
        "3:55: a 2 s shot; expected 4 to 15 s on dreamina-seedance-2-0-260128",
        "15:9: a 2 s shot; expected 4 to 15 s on dreamina-seedance-2-0-260128"]


def test_a_broken_shot_is_not_blamed_on_the_shots_after_it(tmp_path: Path) -> None:
    shots = """\
      - {id: a, prompt: "@ada waves", duration: 5s}
      - {id: b, prompt: "@ada turns", first_frame: {from: a}, transition: crossfade}
"""
    series = write(tmp_path / "s", shots=shots)
    found = storyboard.check(series)
    assert [(d.severity, d.message) for d in found  # the cast's own (a short sample) aside
            if "never used" not in d.message and d.code != "sample-length"] == [
        ("error", "expected a whole number, got '5s'")]


def test_a_character_that_speaks_without_a_voice_is_warned_of_once_at_its_line(
        tmp_path: Path) -> None:
    shots = SHOTS + """\
      - id: d
        scenes:
          - {at: 0-2s, action: "@bob waves", say: {bob: "Bye!"}}
"""
    found = [d for d in storyboard.check(write(tmp_path / "s", shots=shots))
             if d.code == "voiceless-speaker"]
    assert [(d.severity, d.span.line if d.span else 0, d.message) for d in found] == [
        ("warning", 10, "character 'bob' speaks (first in ep01/b) but has no voice: the model "
         "makes one up, maybe another in every shot; expected voice: naming one of the "
         "series' voices")]


# --- the command line --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["plan", "check", "config"])
def test_a_misspelt_provider_gets_the_closest(tmp_path: Path, command: str) -> None:
    result = run(command, write(tmp_path / "s"), "--provider", "dashscop")
    assert result.exit_code == 2 and "(did you mean 'dashscope'?)" in result.output


def test_pick_of_a_shot_never_rendered_says_so(tmp_path: Path) -> None:
    result = run("pick", write(tmp_path / "s"), "ep01/a", "2")
    assert result.exit_code == 1
    assert "ep01/a has never been rendered (no take of it has a video): render it first" \
        in result.output and "expected one of" not in result.output


def test_init_from_prose_points_to_breakdown(tmp_path: Path) -> None:
    story = tmp_path / "story.md"
    story.write_text("Once upon a time there was a girl named Ada.\n", encoding="utf-8")
    result = run("init", tmp_path / "s", "--from", story)
    assert result.exit_code == 1
    assert "a story in prose is not a screenplay: `storyboard breakdown " in result.output


def test_init_from_unsettled_words_are_listed_by_check_and_counted_by_the_rest(
        tmp_path: Path) -> None:
    script = tmp_path / "t.fountain"
    script.write_text("INT. HOUSE - DAY\n\nJACK.\n\nJACK\nYo.\n\nANNA\nHm.\n", encoding="utf-8")
    series = tmp_path / "s"
    assert run("init", series, "--from", script).exit_code == 0
    listed = run("check", series)
    assert listed.exit_code == 0 and listed.stderr.count("`init --from` could not settle") == 4
    counted = run("plan", series)
    assert counted.exit_code == 0
    assert counted.stderr.count("`init --from` could not settle") == 1  # (a quoted line may show
    # a voice's own comment, under another warning: the sample too short to be a reference voice)
    assert f"warning: 4 cast word(s) `init --from` could not settle; `storyboard check " \
           f"{series}` lists each" in counted.stderr


def test_the_breakdown_consent_says_one_ceiling_in_usd(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.breakdown.pipeline import usd
    monkeypatch.setenv("STORYBOARD_TEST_CHAT_KEY", "sk-test")
    story = tmp_path / "story.md"
    story.write_text("# One\n\nAda walks in. \"Hello,\" she says.\n", encoding="utf-8")
    result = run("breakdown", story, tmp_path / "s", "--base-url",
                 "http://127.0.0.1:9/compatible-mode/v1", "--api-key-env",
                 "STORYBOARD_TEST_CHAT_KEY")
    assert result.exit_code == 1 and "$" not in result.output, result.output
    ceilings = {word for line in result.output.splitlines() for word in [line]
                if "USD" in word and "up to" in word}
    amounts = {part.split(" USD")[0].rsplit(" ", 1)[-1] for part in ceilings}
    assert len(amounts) == 1, result.output  # the plan and the refusal say the same ceiling
    assert usd(0.0404) == "0.05 USD" and usd(0.04) == "0.04 USD"


# --- money ---------------------------------------------------------------------------------------


GENERATED = """\
storyboard: 1
title: Wire
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
characters:
  ada: {image: {generate: "a young engineer with brass goggles"}}
episodes:
  - id: ep01
    shots:
      - {id: a, prompt: "@ada waves"}
"""


def test_a_budget_too_small_for_the_cast_advises_a_command_that_works(
        tmp_path: Path, emulator: Emulator) -> None:
    emulator()
    series = tmp_path / "s"
    series.mkdir()
    (series / "storyboard.yaml").write_text(GENERATED, encoding="utf-8")
    _, report, _ = render(series, "--budget", "0.01")
    (skipped,) = {s["message"] for s in report["shots"] if s["state"] == "skipped"}
    budget = skipped.split("(--budget ", 1)[1].split()[0]  # said before anything was spent
    made = invoke("render", series, "--budget", budget, "--provider", "dashscope", "--json")
    assert made.exit_code == 0, made.output
    assert {s["state"] for s in json.loads(made.stdout)["shots"]} == {"done"}


EVERY_TAKE = """\
- id: ep01
  shots:
    - id: ballad
      takes: 2
      scenes:
        - {at: 0-2s, action: "@mia sings", say: {mia: "La la la."}}
"""


def test_a_finding_on_every_take_is_said_to_be_beyond_retake(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    """The emulator's videos are silent: every take says nothing of its line, the same finding."""
    emulator()
    series = write_series(tmp_path / "every", make_media, EVERY_TAKE, head=HEAD)
    assert render(series, "--yes")[0] == 0
    refused = invoke("approve", series, "ep01/ballad")
    assert refused.exit_code != 0
    assert "every take of this shot has the same finding (silent_line): a retake is unlikely to " \
           "fix it" in refused.output, refused.output
    planned = invoke("plan", series, "--provider", "dashscope")
    assert "every take of this shot has the same finding (silent_line)" in planned.output
