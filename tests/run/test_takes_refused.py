"""A refused command into no change at all: the lock byte for byte, nothing paid.

``retake`` used to write the takes it asks for (``"extra": 1``) to the lock before the render that
makes them was refused (an approved shot changed, no consent, a budget too small); the next
``render --replace-approved`` then paid for a take nobody had asked for. ``render
--replace-approved`` lifted the approval before consent in the same way. Here each refusal leaves
the lock's bytes as they were, and the render that follows pays for exactly the takes asked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.emulator import EmulatorServer
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

STILLS = HEAD + "checks: {freeze_seconds: 60}\n"  # the emulator draws stills: not a finding
TWO = """\
- id: ep01
  shots:
    - {id: a0, prompt: "@mia sings", takes: 2}
"""


@pytest.fixture
def approved(tmp_path: Path, make_media: MakeMedia,
             emulator: Emulator) -> tuple[Path, EmulatorServer]:
    """A series whose shot of two takes rendered, take 2 approved, then its YAML changed; the
    emulator that rendered it."""
    emu = emulator()
    series = write_series(tmp_path / "s", make_media, TWO, head=STILLS)
    assert render(series, "--yes")[0] == 0
    assert invoke("pick", series, "ep01/a0", "2").exit_code == 0
    assert invoke("approve", series, "ep01/a0").exit_code == 0
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("@mia sings", "@mia sings softly"), "utf-8")
    return series, emu


def test_a_refused_retake_leaves_the_lock_and_the_next_render_pays_the_takes_asked_for(
        approved: tuple[Path, EmulatorServer]) -> None:
    series, emu = approved
    lock = series / "storyboard.lock"
    before, paid = lock.read_bytes(), submissions(emu)
    result = invoke("retake", series, "ep01/a0", "-n", "1", "--provider", "dashscope", "--yes")
    assert result.exit_code != 0 and "approved shot(s) changed" in result.stderr
    assert "nothing was submitted" in result.stderr
    assert lock.read_bytes() == before and submissions(emu) == paid
    code, _, err = render(series, "--yes", "--replace-approved")
    assert code == 0, err
    assert submissions(emu) == paid + 2  # takes: 2, not 3
    assert '"extra"' not in lock.read_text("utf-8")


def test_a_retake_over_budget_leaves_the_lock(approved: tuple[Path, EmulatorServer]) -> None:
    series, emu = approved
    lock = series / "storyboard.lock"
    before, paid = lock.read_bytes(), submissions(emu)
    result = invoke("retake", series, "ep01/a0", "-n", "1", "--provider", "dashscope",
                    "--budget", "0.0001")
    assert result.exit_code != 0 and "nothing was submitted" in result.output
    assert lock.read_bytes() == before and submissions(emu) == paid


def test_replace_approved_without_consent_keeps_the_approval(
        approved: tuple[Path, EmulatorServer]) -> None:
    series, emu = approved
    lock = series / "storyboard.lock"
    before, paid = lock.read_bytes(), submissions(emu)
    code, _, err = render(series, "--replace-approved")  # no --yes, no budget, no terminal
    assert code != 0 and "nothing was submitted" in err
    assert lock.read_bytes() == before and submissions(emu) == paid
    code, _, err = render(series, "--yes", "--replace-approved")
    assert code == 0, err
    assert submissions(emu) == paid + 2
    assert '"approved"' not in lock.read_text("utf-8")  # lifted once the run had consent


def test_an_accepted_retake_still_records_its_take(
        approved: tuple[Path, EmulatorServer]) -> None:
    series, emu = approved
    assert render(series, "--yes", "--replace-approved")[0] == 0
    paid = submissions(emu)
    result = invoke("retake", series, "ep01/a0", "-n", "1", "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    assert submissions(emu) == paid + 1
    assert '"extra": 1' in (series / "storyboard.lock").read_text("utf-8")
