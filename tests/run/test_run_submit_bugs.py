"""Exceptions of our own in a submit into verdicts by where they came from, on the emulator: one
raised before any request went out fails the shot at once (nothing can have been paid); one raised
after the request was sent is reconciled with the task list, as a lost answer is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.language.request import CompiledShot
from storyboard.providers.dashscope.provider import DashScopeProvider
from storyboard.providers.dashscope.settings import DashScopeSettings
from storyboard.run import render
from storyboard.run.state.tasks.journal import Journal
from storyboard.run.trip.model import RunOptions, RunResult, Wiring
from tests.fixtures.gateway_runs import a_shot, serve


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


class Bug(Exception):
    """A fault of ours (not the provider's, not the network's)."""


class Buggy(DashScopeProvider):
    """DashScope with a bug in its submit: before anything is sent, or after the request."""

    def __init__(self, settings: DashScopeSettings, *, after_sending: bool) -> None:
        super().__init__(settings)
        self.after_sending = after_sending

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        if not self.after_sending:
            raise Bug("cannot read the reference image")
        task_id = await super().submit(shot, first_frame)
        raise Bug(f"the answer for {task_id} could not be read")


def render_buggy(emu: EmulatorServer, root: Path, shot: CompiledShot, *,
                 after_sending: bool) -> RunResult:
    async def go() -> RunResult:
        provider = Buggy(DashScopeSettings(base_url=emu.base_url), after_sending=after_sending)
        try:
            return await render([shot], provider, RunOptions(
                poll_schedule=(0.1,), backoff_cap=0.4, reconcile_delay=0.2, late_window=30.0),
                Wiring(series_dir=root))
        finally:
            await provider.aclose()
    return asyncio.run(go())


def test_a_bug_before_anything_is_sent_fails_at_once(emu: EmulatorServer, tmp_path: Path,
                                                     make_media: Any) -> None:
    shot = a_shot(tmp_path, make_media)
    started = time.monotonic()
    result = render_buggy(emu, tmp_path, shot, after_sending=False)
    assert time.monotonic() - started < 10  # not the 30 s of looking for a task in the list
    (only,) = result.shots
    assert (only.state, only.code) == ("failed", "Bug"), only
    assert "before anything was sent" in only.message and "cannot read the reference" in only.message
    assert result.submits == 1 and emu.stats()["submissions"]["total"] == 0
    with Journal.open(tmp_path) as journal:
        (row,) = journal.attempts()
    assert row.state == "failed" and row.error_code == "Bug"


def test_a_bug_after_the_request_was_sent_is_reconciled_and_paid_once(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    shot = a_shot(tmp_path, make_media, " trips over a cable")
    result = render_buggy(emu, tmp_path, shot, after_sending=True)
    (only,) = result.shots
    assert only.state == "done", only  # its task was found in the list and adopted
    assert emu.stats()["submissions"]["total"] == 1 and result.submits == 1
    with Journal.open(tmp_path) as journal:
        (row,) = journal.attempts()
    assert row.state == "done" and "adopted by reconcile" in (row.note or "")
