"""Each take's measurement and each shot's last failure into what the sheet (and the studio) say
of them: a take's findings as lines, a failed attempt as where it stopped and whether it was billed.
"""

from __future__ import annotations

from collections.abc import Callable

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot, Manifest
from storyboard.run.cancel import failure_of
from storyboard.run.journal import Attempt, read_status
from storyboard.run.lockfile import LockFile, take_key
from storyboard.run.measured import thresholds
from storyboard.run.takechecks import take_lines


def findings_by_take(manifest: Manifest, lock: LockFile
                     ) -> Callable[[CompiledShot], tuple[str, ...]]:
    """A take's findings as lines, judged by the series' ``checks:`` (none: never measured)."""
    limits = thresholds(manifest.checks)
    return lambda take: take_lines(manifest, take, lock, limits)


def failures_by_take(manifest: Manifest) -> dict[str, str]:
    """Each take (its lock key) whose latest attempt at its current version failed: the failure
    in words (``refused at submit, nothing billed: content refusal of the prompt``) and its code.
    A journal that cannot be read says nothing here (``status`` says why)."""
    current = {take_key(t): t.hash for shot in manifest.shots() for t in shot.all_takes()}
    try:
        rows = read_status(manifest.root)
    except StoryboardError:
        return {}
    latest: dict[str, Attempt] = {r.key: r for r in rows if current.get(r.key) == r.shot_hash}
    said = {key: _said(row) for key, row in latest.items()}
    return {key: text for key, text in said.items() if text}


def _said(row: Attempt) -> str:
    failure = failure_of(row)
    if failure is None:
        return ""
    return f"{failure.words()} ({failure.code})" if failure.code else failure.words()
