"""Takes and their measurements into choices: each take's findings, the best take, what
``approve`` must be forced for, and the shots ``retake --failed-checks`` asks again.

Nothing is measured here: a take's findings are judged from the measurement stored when it arrived
(``run.measured``); a take never measured (the local animatic, a render before measuring) has
none to show (``None``), and counts after every measured take when the best is chosen.
"""

from __future__ import annotations

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot, Manifest
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock, recorded_output
from storyboard.run.state.lock.pictures import Drawer
from storyboard.run.state.measured import NOT_MEASURABLE, Finding, Thresholds, blocking, thresholds
from storyboard.run.state.people.findings import findings_of
from storyboard.run.state.takes import (
    approve,
    find_shot,
    rendered_takes,
    state_key,
    to_approve,
    used_take,
    with_retakes,
)


class HasFindings(StoryboardError):
    """An approve refused: the take has findings; ``force`` (``--force``) approves it anyway."""


def output_sha256(take: CompiledShot, lock: LockFile) -> str | None:
    """The sha256 of the file ``take`` rendered into, as the lock (or the drafts' lock) says."""
    return recorded_output(lock, take)


def take_findings(manifest: Manifest, shot: CompiledShot, lock: LockFile | None = None,
                  limits: Thresholds | None = None) -> dict[int, list[Finding] | None]:
    """Each rendered take of ``shot``: its findings (None: never measured)."""
    lock = lock or read_lock(lock_path(manifest.root))
    limits = limits or thresholds(manifest.checks)
    done = rendered_takes(shot, lock)
    return {t.take: findings_of(manifest.root, output_sha256(t, lock), t, limits, lock)
            for t in shot.all_takes() if t.take in done}


def best_take(manifest: Manifest, shot_id: str) -> tuple[int, list[Finding] | None]:
    """The rendered take with the fewest errors, then the fewest findings, then the nearest its
    cast (the distances its identity and look findings measured); ties: the lowest take,
    unmeasured takes after measured ones. What could not be measured (``n/a``) counts for
    nothing. Returns the take and its findings."""
    shot = find_shot(with_retakes(manifest), shot_id)
    found = take_findings(manifest, shot)
    if not found:
        raise StoryboardError(f"{shot.shot_id} has no take that rendered; render it first")
    take = min(found, key=lambda k: (found[k] is None, *rank(found[k] or []), k))
    return take, found[take]


def rank(found: list[Finding]) -> tuple[int, int, float]:
    """How bad a take's findings are: its errors, its findings, their distances summed."""
    counted = [f for f in found if f.severity != NOT_MEASURABLE]
    return (sum(f.severity == "error" for f in counted), len(counted),
            round(sum(f.distance or 0.0 for f in counted), 6))


def refuse_unforced(manifest: Manifest, shot_id: str, take: int) -> None:
    """Stop ``approve`` of a take whose findings reach ``checks.approve``'s severity."""
    limits = thresholds(manifest.checks)
    shot = find_shot(with_retakes(manifest), shot_id)
    held = blocking(take_findings(manifest, shot, limits=limits).get(take) or [], limits)
    if held:
        said = "\n  ".join(f.line() for f in held)
        every = on_every_take(manifest, shot_id)
        advice = f"\n{every_take_note(every)}" if every else \
            "\napprove it anyway with --force, or pick another take (`storyboard pick --best`)"
        raise HasFindings(f"take {take} of {shot.shot_id} has {len(held)} finding(s):\n  "
                          f"{said}{advice}")


def on_every_take(manifest: Manifest, shot_id: str) -> list[str]:
    """The kinds of finding that every rendered take of the shot has (two takes or more, all
    measured): the request makes them, so another take is unlikely to lose them."""
    shot = find_shot(with_retakes(manifest), shot_id)
    found = list(take_findings(manifest, shot).values())
    if len(found) < 2 or any(each is None for each in found):
        return []
    return sorted(set.intersection(*({f.kind for f in each or ()
                                      if f.severity != NOT_MEASURABLE} for each in found)))


def every_take_note(kinds: list[str]) -> str:
    """What to do about findings on every take: ``retake`` cannot fix them."""
    return (f"every take of this shot has the same finding ({', '.join(kinds)}): a retake is "
            "unlikely to fix it; change the shot (its prompt, references or checks:), or approve "
            "it anyway with --force")


def approve_checked(manifest: Manifest, shot_id: str, *, force: bool = False,
                    drawer: Drawer | None = None) -> int:
    """``approve`` as every door applies it (the CLI, the studio, the MCP server): a take whose
    findings reach ``checks.approve``'s severity is refused unless ``force`` (``drawer``: the
    picture that provider drew, ``approve --provider``)."""
    if not force:
        refuse_unforced(manifest, shot_id, to_approve(manifest, shot_id, drawer))
    return approve(manifest, shot_id, drawer)


def used_findings(manifest: Manifest) -> dict[str, tuple[int, list[Finding]]]:
    """Each shot (``episode/shot``) whose used take has findings: that take and its findings
    (what could not be measured, ``n/a``, left out), in series order (what ``plan`` sums up
    and ``retake --failed-checks`` acts on)."""
    limits = thresholds(manifest.checks)
    lock = read_lock(lock_path(manifest.root))
    found_by: dict[str, tuple[int, list[Finding]]] = {}
    for shot in with_retakes(manifest, lock).shots():
        found = take_findings(manifest, shot, lock, limits)
        rendered = {t.id for t in shot.all_takes() if t.take in found}
        take = used_take(shot, lock.takes.get(state_key(shot), {}), rendered)
        said = [f for f in found.get(take.take) or () if f.severity != NOT_MEASURABLE]
        if said:
            found_by[shot.shot_id] = (take.take, said)
    return found_by


def failed_checks(manifest: Manifest) -> list[str]:
    """The shots (``episode/shot``) whose used take has findings that ``approve`` would
    refuse, in series order."""
    limits = thresholds(manifest.checks)
    return [shot for shot, (_, found) in used_findings(manifest).items()
            if blocking(found, limits)]
