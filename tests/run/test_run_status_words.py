"""Status words into safe polling: every target knows every gateway's synonyms, and a word nobody
declared never finishes a task nor allows a new submit (issue 21.1), end to end on the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.dialects.base import Dialect, put
from storyboard.emulator import EmulatorServer
from storyboard.emulator.faults import FaultSyntaxError, parse_fault
from storyboard.emulator.gateways.unwire import answer
from storyboard.language.request import CompiledShot
from storyboard.run.state.tasks.journal import Journal
from storyboard.run.trip.model import ShotEvent
from storyboard.targets import TaskStatus
from storyboard.targets.wire.gateways import SYNONYMS, TARGETS
from tests.fixtures.gateway_runs import a_shot, fitted, run, serve

NOBODY = "frobnicating"  # a word no target declares


def vocabulary(dialect: Dialect) -> Mapping[str, TaskStatus]:
    own = dict(dialect.words) or dict(dialect.protocol.statuses)
    return {**own, **{w.lower(): s for w, s in own.items()}}


def answer_with(dialect: Dialect, word: str) -> dict[str, Any]:
    out = answer(dialect, "t-1", TaskStatus.RUNNING)
    put(out, dialect.answers.status, word)
    return json.loads(json.dumps(out))


@pytest.mark.parametrize("reader", sorted(DIALECTS))
@pytest.mark.parametrize("writer", sorted(DIALECTS))
def test_every_dialect_reads_every_word_of_every_other_dialect(reader: str, writer: str) -> None:
    """Each word means the same everywhere: a gateway that says another's word is understood."""
    for word, meant in vocabulary(DIALECTS[writer]).items():
        state = DIALECTS[reader].task_state(answer_with(DIALECTS[reader], word))
        assert state.status is meant, (reader, writer, word)


@pytest.mark.parametrize("name", sorted(DIALECTS))
@pytest.mark.parametrize("word", [NOBODY, "unknown", "UNKNOWN", "", "done?"])
def test_a_word_nobody_declared_stays_unknown_and_is_named(name: str, word: str) -> None:
    state = DIALECTS[name].task_state(answer_with(DIALECTS[name], word))
    assert state.status is TaskStatus.UNKNOWN and not state.status.finished
    assert repr(word) in state.message


def test_the_synonyms_cover_the_five_states_and_unknown_is_none_of_them() -> None:
    assert set(SYNONYMS.values()) >= {TaskStatus.PENDING, TaskStatus.RUNNING,
                                      TaskStatus.SUCCEEDED, TaskStatus.FAILED,
                                      TaskStatus.CANCELED}
    assert "unknown" not in SYNONYMS and TaskStatus.UNKNOWN not in SYNONYMS.values()
    for target in TARGETS.values():
        for word in ("pending", "cancelled", "canceled", "processing", "completed", "succeeded",
                     "in_progress", "queued", "created"):
            assert target.protocol.status(word)[0] is SYNONYMS[word], (target.name, word)


def test_the_status_fault_takes_a_word() -> None:
    fault = parse_fault("query:status=in_review")
    assert (fault.kind, fault.word, str(fault)) == ("status", "in_review", "query:status=in_review")
    for bad in ("query:status", "query:status=", "submit:status=x", "query:status=a{b}"):
        with pytest.raises(FaultSyntaxError):
            parse_fault(bad)


# -- end to end --------------------------------------------------------------------------------


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


def sold_by(shot: CompiledShot, name: str) -> CompiledShot:
    """``shot`` on a model the dialect ``name`` sells (its first, if not wan2.7-r2v), at least
    as long as that target's shortest shot."""
    target = TARGETS[name]
    model = shot.request.model if shot.request.model in target.models else target.models[0]
    duration = max(shot.request.duration, target.limits.min_duration)
    extend = shot.request.prompt_extend if model == shot.request.model else None
    return replace(shot, request=fitted(replace(shot.request, model=model, duration=duration,
                                                prompt_extend=extend), target.limits))


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_an_unknown_word_is_polled_on_until_the_task_finishes(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, name: str) -> None:
    shot = sold_by(a_shot(tmp_path, make_media), name)
    emu.script(f"query:status={NOBODY}*3")
    events: list[ShotEvent] = []
    result = run(emu, name, tmp_path, shot, events)
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert emu.stats()["submissions"]["total"] == 1 and result.submits == 1
    said = [e.message for e in events if NOBODY in e.message]
    assert len(said) == 1 and "never submitting again" in said[0]


@pytest.mark.parametrize("name", ["dashscope", "freepik", "roles"])
def test_a_lasting_unknown_word_stops_as_ambiguous_and_the_next_run_polls_it(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, name: str) -> None:
    shot = a_shot(tmp_path, make_media)
    emu.add_rate(f"query:status={NOBODY}:1")
    events: list[ShotEvent] = []
    first = run(emu, name, tmp_path, shot, events, unknown_patience=1.0)
    (only,) = first.shots
    assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
    assert only.task_id and only.task_id in only.message and NOBODY in only.message
    with Journal.open(tmp_path) as journal:
        (row,) = journal.attempts()
    assert row.state in ("submitted", "running") and row.task_id == only.task_id  # not lost
    emu.clear_faults()
    second = run(emu, name, tmp_path, shot, events)
    assert [s.state for s in second.shots] == ["done"] and second.submits == 0
    assert second.shots[0].task_id == only.task_id
    assert emu.stats()["submissions"]["total"] == 1
