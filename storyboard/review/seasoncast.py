"""A compiled season, its lock and its people's measurements into a strip per character: each
appearance across the season, with the take it is in, its distance and its finding.

Each episode's shots in order (not the boards), the take each uses (picked, else its first
rendered: ``used_take``), each character the shot declares in it. Nothing is measured here: the
take's measured people (``run.state.people``) give, frame by frame, the face assigned to the
character as the judge assigns it; the appearance's distance is the nearest that face came to
the character's picture, its crop that face in that frame. Its finding is the worst the take's
findings say of the character (``identity``, then ``look``; ``n/a`` when no frontal face could be
measured), else the take's ``grade``, else ``ok``; a take whose people were never measured (no
``faces`` extra, not rendered yet) is ``unmeasured``. ``status --season --json`` counts them per
character and finding; the studio's cast page draws the strips (``studio/castpage.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.language.picks import state_key
from storyboard.language.request import CompiledShot, Manifest
from storyboard.media import ffmpeg
from storyboard.review.sheet.findings import rendered_file
from storyboard.review.sheet.model import anchor
from storyboard.run.choices.checks import output_sha256
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock
from storyboard.run.state.measured import NOT_MEASURABLE, Finding, Thresholds, thresholds
from storyboard.run.state.people.assign import assign
from storyboard.run.state.people.findings import people_findings
from storyboard.run.state.people.known import Known, known_people
from storyboard.run.state.people.records import recorded_people
from storyboard.run.state.takes import used_take, with_retakes

FINDINGS = ("identity", "look", "grade", "n/a", "ok", "unmeasured")  # worst first
CROP_HEIGHT = 96  # pixels of a crop's height
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Appearance:
    """One character in one shot's take: where, how far from its picture, what was found."""

    character: str
    episode: str
    shot: str  # the shot's id in its episode
    take: int
    anchor: str  # the shot's section of the studio's page
    finding: str  # one of FINDINGS
    detail: str  # the finding's words ("" for ok, unmeasured)
    distance: float | None  # the nearest its face came to its picture (None: no face)
    video: Path | None  # the take's file here (None: not in this clone)
    time: float = 0.0  # the crop's frame, seconds into the take
    box: Box | None = None  # the face in that frame, as measured
    size: tuple[int, int] = (0, 0)  # the size the frame was measured at

    @property
    def crop_name(self) -> str:
        """The crop's file name: what it shows, hashed (the same appearance, the same name)."""
        if self.video is None or self.box is None:
            return ""
        text = f"{self.video.name} {self.time:.3f} {self.box} {self.size}"
        return hashlib.sha256(text.encode()).hexdigest()[:32] + ".jpg"


def appearances(manifest: Manifest, lock: LockFile | None = None
                ) -> dict[str, list[Appearance]]:
    """Each character's appearances across the season, in episode and shot order."""
    lock = lock or read_lock(lock_path(manifest.root))
    used = with_retakes(manifest, lock)
    limits = thresholds(manifest.checks)
    found: dict[str, list[Appearance]] = {}
    for episode in used.episodes:
        for shot in episode.shots:
            if not shot.people:
                continue
            rendered = {t.id for t in shot.all_takes() if output_sha256(t, lock) is not None}
            take = used_take(shot, lock.takes.get(state_key(shot), {}), rendered)
            for each in _in_take(manifest.root, take, shot.id, lock, limits):
                found.setdefault(each.character, []).append(each)
    return dict(sorted(found.items()))


def _in_take(root: Path, take: CompiledShot, shot_id: str, lock: LockFile,
             limits: Thresholds) -> list[Appearance]:
    sha = output_sha256(take, lock)
    people = recorded_people(root, sha) if sha is not None else None
    where = (take.episode, shot_id, take.take, anchor(take.episode, shot_id))
    names = sorted(take.people)
    if people is None:
        return [Appearance(name, *where, finding="unmeasured", detail="", distance=None,
                           video=None) for name in names]
    known = known_people(root, take, lock, limits)
    said = people_findings(root, sha or "", take, limits, lock)
    video = rendered_file(root, lock, take)
    faced = {n: k.faces for n, k in known.items() if k.faces}
    nearest: dict[str, tuple[float, float, Box]] = {}
    for frame in people.frames:
        for face, name, far in assign(frame.faces, faced):
            if name not in nearest or far < nearest[name][0]:
                nearest[name] = (far, frame.time, face.box)
    out = []
    for name in names:
        finding, detail = verdict(name, said, known.get(name))
        met = nearest.get(name)
        out.append(Appearance(name, *where, finding=finding, detail=detail,
                              distance=None if met is None else round(met[0], 3), video=video,
                              time=met[1] if met else 0.0, box=met[2] if met else None,
                              size=(people.width, people.height)))
    return out


def verdict(name: str, said: Sequence[Finding], known: Known | None) -> tuple[str, str]:
    """The worst the take's findings say of ``name`` (the judge names it first: ``@name``), or
    of the whole take (its grade); ``ok`` when nothing."""
    mine = [f for f in said if f.detail.startswith(f"@{name}'s ") or
            f.detail.startswith((f"@{name} ", f"@{name}:"))]
    for kind in ("identity", "look"):
        hit = [f for f in mine if f.kind == kind and f.severity != NOT_MEASURABLE]
        if hit:
            return kind, hit[0].detail
    if any(f.kind == "identity" and f.severity == NOT_MEASURABLE for f in mine):
        return "n/a", next(f.detail for f in mine if f.severity == NOT_MEASURABLE)
    if known is not None and not known.faces:
        return "n/a", f"@{name}: not measured ({known.why})"
    graded = [f for f in said if f.kind == "grade"]
    return ("grade", graded[0].detail) if graded else ("ok", "")


def counts(strips: Mapping[str, Sequence[Appearance]]) -> dict[str, dict[str, int]]:
    """Per character: its appearances, and how many of them each finding is."""
    return {name: {"appearances": len(found),
                   **{kind: sum(1 for a in found if a.finding == kind) for kind in FINDINGS}}
            for name, found in strips.items()}


def crop(appearance: Appearance, folder: Path) -> Path | None:
    """The appearance's face, cut from its take's frame into a small JPEG in ``folder`` (made
    once, by its ``crop_name``); None without a file or a face."""
    name = appearance.crop_name
    if not name or appearance.video is None or appearance.box is None:
        return None
    out = folder / name
    if out.is_file():
        return out
    left, top, right, bottom = appearance.box
    pad = (bottom - top) // 4  # some of the head and the collar around the face
    x, y = max(0, left - pad), max(0, top - pad)
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    width, height = appearance.size
    fit = f"scale={width}:{height}," if width and height else ""
    folder.mkdir(parents=True, exist_ok=True)
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run(["-ss", f"{appearance.time:.3f}", "-i", str(appearance.video),
                    "-frames:v", "1", "-vf", f"{fit}crop=min({w}\\,iw-{x}):min({h}\\,ih-{y}):"
                    f"{x}:{y},scale=-2:{CROP_HEIGHT}", *ffmpeg.BITEXACT, "-f", "image2",
                    "-c:v", "mjpeg", str(tmp)], what=f"cutting a crop of {appearance.character}")
    return out
