"""A take's light against its episode's: the take's median luma and blue-minus-red over its
sampled frames, against the median of the takes the episode's other shots use (picked or
approved, else their first: a shot's own other takes are its alternatives, not its neighbours).
Relative, never an absolute line (a night episode is dark throughout); judged once ``AT_LEAST``
other shots are measured. A take this far off is a ``grade`` warning: a shot that jumps."""

from __future__ import annotations

from pathlib import Path
from statistics import median

from storyboard.language.request import CompiledShot, take_id
from storyboard.media.faces.record import People
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.state.measured import Finding, Thresholds
from storyboard.run.state.people.records import recorded_people

AT_LEAST = 2  # other shots of the episode measured before a take is judged against them


def light_of(people: People) -> tuple[float, float] | None:
    """A take's median luma and median blue minus red (None: no frame)."""
    if not people.frames:
        return None
    return (median(f.luma for f in people.frames), median(f.balance for f in people.frames))


def episode_light(root: Path, take: CompiledShot, lock: LockFile) -> list[tuple[float, float]]:
    """The light of the take each other shot of ``take``'s episode uses, where measured."""
    prefix = f"{take.series}/{take.episode}/"
    shots = sorted({key.removeprefix(prefix).partition("#")[0] for key in lock.shots
                    if key.startswith(prefix)} - {take.name})
    found = []
    for name in shots:
        state = lock.takes.get(prefix + name, {})
        used = state.get("approved") or state.get("picked") or 1
        sha = lock.shots.get(prefix + take_id(name, int(used)), {}).get("output_sha256")
        people = recorded_people(root, sha) if isinstance(sha, str) else None
        light = light_of(people) if people is not None and people.kind == "video" else None
        if light is not None:
            found.append(light)
    return found


def judge_grade(people: People, others: list[tuple[float, float]],
                limits: Thresholds) -> list[Finding]:
    """``people``'s light against the median of ``others`` (its episode's takes)."""
    mine = light_of(people)
    if mine is None or people.kind != "video" or len(others) < AT_LEAST:
        return []
    luma = median(o[0] for o in others)
    balance = median(o[1] for o in others)
    end = max(f.time for f in people.frames)
    said = []
    if abs(mine[0] - luma) > limits.grade_luma:
        said.append(f"luma {mine[0]:.0f} against the episode's median {luma:.0f} "
                    f"({mine[0] - luma:+.0f}; at most {limits.grade_luma:g})")
    if abs(mine[1] - balance) > limits.grade_balance:
        said.append(f"blue minus red {mine[1]:+.0f} against the episode's median {balance:+.0f} "
                    f"({mine[1] - balance:+.0f}; at most {limits.grade_balance:g})")
    return [Finding("grade", 0.0, end, "warning", "; ".join(said))] if said else []
