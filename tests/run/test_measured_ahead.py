"""A run's takes measured as they arrive (issue 66.7): each arriving file measured once on a
bounded pool while the others still render, and the run's report the same as when every take was
measured after the last one landed (the same files said measured, the same findings)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from storyboard.animatic import cache_key
from storyboard.media import samples
from storyboard.media.probes import measure
from storyboard.run.boards import ahead as ahead_module
from storyboard.run.boards.ahead import AheadOfMeasure
from storyboard.run.state import measured
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.measured import Thresholds, measure_takes
from storyboard.run.trip.model import ShotEvent
from tests.animatic.test_boards_animatic import board


def arrived(output: Path) -> ShotEvent:
    return ShotEvent("boards", "ep1/hook", "done", 1.0, 0.0, output=output)


def test_each_arriving_take_is_measured_once_on_the_pool_and_reported_as_measured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    takes = board(take=2).all_takes()
    cache = OutputCache(tmp_path, cache_key())
    for number, take in enumerate(takes):
        samples.image(cache.path(take.hash), 64, 36, color=("red", "blue")[number])
    where: list[str] = []
    real = measured.measure_file

    def measure(*args: object) -> measured.Outcome:
        where.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ahead_module, "measure_file", measure)
    monkeypatch.setattr(measured, "measure_file", measure)
    heard: list[ShotEvent] = []
    early = AheadOfMeasure(tmp_path, cache, takes)
    hear = early.listen(heard.append)
    for take in takes:
        hear(arrived(cache.path(take.hash)))
        hear(arrived(cache.path(take.hash)))  # heard twice: measured once
    hear(ShotEvent("ep1", "other", "failed", 1.0, 0.0))
    outcomes = early.outcomes()
    assert len(heard) == 5  # every event passed on
    assert len(where) == 2 and all(name.startswith("storyboard-measure") for name in where)
    report = measure_takes(tmp_path, cache, takes, Thresholds(), outcomes)
    assert len(where) == 2  # nothing measured again after the run
    assert sorted(report.measured) == sorted(measured.take_key(t) for t in takes)
    assert all(o.measured is not None and o.measured.kind == "image" for o in outcomes.values())


def test_without_the_early_outcomes_the_report_is_the_same(tmp_path: Path) -> None:
    takes = board(take=2).all_takes()
    reports = []
    for name in ("ahead", "after"):
        cache = OutputCache(tmp_path / name, cache_key())
        for take in takes:
            samples.image(cache.path(take.hash), 64, 36)
        known = {}
        if name == "ahead":
            early = AheadOfMeasure(tmp_path / name, cache, takes)
            hear = early.listen(None)
            for take in takes:
                hear(arrived(cache.path(take.hash)))
            known = early.outcomes()
        report = measure_takes(tmp_path / name, cache, takes, Thresholds(), known)
        reports.append((sorted(report.measured), report.remeasured, report.findings))
    assert reports[0] == reports[1]
    assert len(reports[0][0]) == 1  # two takes of the same bytes: one file, measured once


def test_a_still_handed_over_is_measured_once_by_the_run_that_decodes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: a board's still is measured in its held board's run (the frame it
    decodes anyway), so the pool does not measure it again, and the take is said measured; one
    whose run made no measurement is measured at the end."""
    takes = board(take=3).all_takes()
    cache = OutputCache(tmp_path, cache_key())
    for number, take in enumerate(takes):
        samples.image(cache.path(take.hash), 64, 36, color=("red", "blue", "green")[number])
    first, second, third = (cache.path(t.hash) for t in takes)
    pooled: list[Path] = []
    real = measured.measure_file

    def measure_file(root: Path, path: Path, sha256: str, kind: str) -> measured.Outcome:
        pooled.append(path)
        return real(root, path, sha256, kind)

    monkeypatch.setattr(ahead_module, "measure_file", measure_file)
    early = AheadOfMeasure(tmp_path, cache, takes)
    heard, failed = early.hand_over(first), early.hand_over(second)
    assert heard is not None and failed is not None
    assert early.hand_over(first) is None  # handed over once
    heard(measure.measure(first, "image"))
    failed(None)  # that run made none
    hear = early.listen(None)
    for path in (first, third):
        hear(arrived(path))
    outcomes = early.outcomes()
    assert pooled == [third]  # the first not measured again
    shas = [entry.sha256 for t in takes if (entry := cache.get(t.hash)) is not None]
    assert [sha in outcomes for sha in shas] == [True, False, True]
    assert measured.recorded(tmp_path, shas[0]) == measure.measure(first, "image")
    report = measure_takes(tmp_path, cache, takes, Thresholds(), outcomes)
    assert sorted(report.measured) == sorted(measured.take_key(t) for t in takes)
    assert measured.recorded(tmp_path, shas[1]) is not None  # measured at the end
    assert early.hand_over(third) is None  # measured already: nothing to hand over
