"""Takes' files into findings: each file measured once (by its content digest), judged against
its request, the shot's intent (``checks:``) and the series' thresholds.

A measurement (``storyboard.media.probes.measure``) is kept in ``.storyboard/measured/<sha256>.json``
with the measurer's version: a file already measured by this version is never measured again; one
measured by an older version is measured once more (the measurer measures more) and the run says
so. Findings are judged from the stored measurement every time they are shown (no ffmpeg), so a
changed threshold or intent changes what is shown without measuring anything. With
``STORYBOARD_MEASURED_SHARED`` set, a file another series of the machine measured is taken from
that folder (``machinewide``) and kept as this series' own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from storyboard.errors import FFmpegError, MediaError, StoryboardError
from storyboard.files import write_atomic
from storyboard.language.request import CompiledShot, Line, is_board
from storyboard.language.resolving import liproutes
from storyboard.media.probes import measure as measuring
from storyboard.media.probes.measure import Measured
from storyboard.run.state import machinewide
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import lock_path, read_lock, take_key
from storyboard.targets.video.models import model_of

log = logging.getLogger("storyboard.run")

FOLDER = Path(".storyboard") / "measured"
SEVERITIES = ("warning", "error")
NOT_MEASURABLE = "n/a"  # a finding's severity where nothing could be measured: never blocks
SIZES = {"480P": 480, "720P": 720, "1080P": 1080}  # the short side of each tier


@dataclass(frozen=True)
class Thresholds:
    """What counts as a finding (the series' ``checks:``; each documented in docs/review.md)."""

    cut_score: float = 10.0  # scdet's scene score (0..100) from which a change is a cut
    black_seconds: float = 0.25  # black stretches this long or longer
    freeze_seconds: float = 0.5  # frozen stretches this long or longer
    line_silence: float = 0.8  # share of a line's window in silence that makes it unspoken
    clip_db: float = -0.1  # a peak this loud (dBFS), reached CLIP_COUNT times or more, clips
    loudness_min: float = -36.0  # integrated loudness (LUFS) below this is too quiet
    loudness_max: float = -8.0  # above this, too loud
    duration_tolerance: float = 0.25  # seconds between the file's length and the request's
    uniform_spread: float = 6.0  # an image whose middle 80 % of luma spans less is blank
    voice_seconds: float = 1.0  # a voice shorter than this (the speech model's minimum)
    identity: float = 0.5  # a face farther than this from its character's picture is not it
    look: float = 0.5  # a costume farther than this (Bhattacharyya) from its look's has changed
    grade_luma: float = 20.0  # a take's luma this far from its episode's median jumps
    grade_balance: float = 16.0  # its blue minus red this far from the median jumps
    approve: str = "error"  # findings of this severity or worse need ``approve --force``
    # each character's own lines (``checks: {characters: {ann: {identity: 0.45}}}``)
    characters: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


CLIP_COUNT = 8
NO_SOUND = -69.9
NUMBERS = tuple(f.name for f in fields(Thresholds) if f.name not in ("approve", "characters"))
PERSONAL = ("identity", "look")  # the lines a character may have of its own
DECIBELS = ("clip_db", "loudness_min", "loudness_max")  # zero or below; the others zero or above


@dataclass(frozen=True)
class Finding:
    """One thing a take's file shows that its request did not ask for."""

    kind: str  # cut, black, frozen, silent_line, line_cut, clipping, loudness, duration, size,
    # blank, short; identity, look, grade (the people: ``run.state.people``)
    start: float
    end: float
    severity: str  # "warning" | "error" | "n/a" (not measurable: said, never a pass or a failure)
    detail: str
    distance: float | None = None  # identity and look: how far from the reference
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """``cut 2.50-2.50 s (error): a scene change of score 17.6``."""
        span = f"{self.start:.2f} s" if self.start == self.end else \
            f"{self.start:.2f}-{self.end:.2f} s"
        return f"{self.kind} at {span} ({self.severity}): {self.detail}"


def thresholds(checks: Mapping[str, Any] | None) -> Thresholds:
    """The series' ``checks:`` over the defaults; a value that is not a finite number in its
    range (or an unknown severity) is refused, never ignored."""
    given = dict(checks or {})
    values: dict[str, Any] = {}
    for name in NUMBERS:
        if name in given:
            values[name] = _number(name, given[name])
    if "approve" in given:
        if given["approve"] not in SEVERITIES:
            raise StoryboardError(f"checks.approve: {given['approve']!r}; expected one of: "
                                  f"{', '.join(SEVERITIES)}")
        values["approve"] = given["approve"]
    if "characters" in given:
        values["characters"] = _personal(given["characters"])
    return Thresholds(**values)


def _personal(given: Any) -> dict[str, dict[str, float]]:
    """``checks.characters``: each character's own ``identity`` and ``look`` lines."""
    if not isinstance(given, Mapping):
        raise StoryboardError(f"checks.characters: {given!r}; expected a mapping of character "
                              "names to {identity: N, look: N}")
    found: dict[str, dict[str, float]] = {}
    for name, lines in given.items():
        if not isinstance(lines, Mapping) or set(lines) - set(PERSONAL):
            raise StoryboardError(f"checks.characters.{name}: {lines!r}; expected "
                                  "{identity: N, look: N}")
        found[str(name)] = {key: _number(f"characters.{name}.{key}", value)
                            for key, value in lines.items()}
    return found


def _number(name: str, value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and \
        value == value and abs(value) != float("inf")
    if ok and (value <= 0 if name in DECIBELS else value >= 0):
        return float(value)
    side = "zero or below" if name in DECIBELS else "zero or above"
    raise StoryboardError(f"checks.{name}: {value!r}; expected a finite number, {side}")


# --- measured once per file ---------------------------------------------------------------------


def record_path(root: Path, sha256: str) -> Path:
    return root / FOLDER / f"{sha256}.json"


def recorded(root: Path, sha256: str) -> Measured | None:
    """The measurement of the file with ``sha256``, of any version; None when there is none."""
    try:
        data = json.loads(record_path(root, sha256).read_text("utf-8"))
        return Measured.from_dict(data)
    except (OSError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Outcome:
    measured: Measured | None
    fresh: bool = False  # measured by this call
    older: int | None = None  # the version of the measurement this one replaced


def measure_file(root: Path, path: Path, sha256: str, kind: str) -> Outcome:
    """``path``'s measurement: the stored one when this version made it, else measured now
    (and stored). A file ffmpeg cannot measure gives no measurement and no error: the take was
    paid for and verified already."""
    known = recorded(root, sha256)
    if known is not None and known.version >= measuring.VERSION:
        return Outcome(known)
    shared = machinewide.taken(sha256, machinewide.LOOK)  # measured by another series here
    taken = _adopted(root, sha256, shared, known)
    if taken is not None:  # new to this series, as if measured
        return taken
    try:
        found = measuring.measure(path, kind)
    except (MediaError, FFmpegError, OSError) as exc:
        log.warning("measuring %s failed (%s)", path.name, exc)
        return Outcome(None)
    return store(root, sha256, found, known, share=True)


def adopt(root: Path, sha256: str, data: object) -> bool:
    """Keep ``data``, a measurement of the file with ``sha256`` read from elsewhere (a team's
    store), as this folder's unless it is not a whole measurement (``measure.trusted``); the
    caller asks only when none of this version is here (``current``). True when kept."""
    return _adopted(root, sha256, data) is not None


def _adopted(root: Path, sha256: str, data: object,
             known: Measured | None = None) -> Outcome | None:
    """``data`` kept as ``adopt`` keeps it (``known``: the record it replaces): None when it is
    not a whole measurement."""
    found = measuring.trusted(data)
    return store(root, sha256, found, known) if found is not None else None


def current(root: Path, sha256: str) -> bool:
    """Whether the file with ``sha256`` is measured by this version (nothing to measure)."""
    known = recorded(root, sha256)
    return known is not None and known.version >= measuring.VERSION


def store(root: Path, sha256: str, found: Measured, known: Measured | None = None, *,
          share: bool = False) -> Outcome:
    """``found``, the file with ``sha256``'s fresh measurement, stored (``known``: the one it
    replaces; ``share``: measured here, so also given to the machine's folder, ``machinewide``)."""
    text = json.dumps(found.to_dict(), sort_keys=True, indent=1) + "\n"
    write_atomic(record_path(root, sha256), text, durable=False)
    if share:
        machinewide.give(sha256, machinewide.LOOK, text)
    return Outcome(found, True, known.version if known else None)


def kind_of(shot: CompiledShot) -> str:
    """What a take's file is: a video, an image (a sheet, a place, a prop) or audio."""
    if shot.asset is None:
        return "video"
    return "image" if shot.asset.kind in ("image", "element", "portrait") else "audio"


# --- judged against the request -----------------------------------------------------------------


def judge(found: Measured, shot: CompiledShot | None, limits: Thresholds,
          made: Mapping[str, float] | None = None) -> list[Finding]:
    """What ``found`` shows that ``shot`` (None: an earlier version, request unknown) did not ask
    for, by time (``made``: each made line's seconds by asset id, so a line handed over as audio
    is checked where its words are, ``liproutes.windows``)."""
    intent = dict(shot.checks) if shot is not None else {}
    ignored = set(intent.get("ignore") or ())
    if found.kind == "image":
        found_here = [*_blank(found, limits), *_board_size(found, shot)]
    elif found.kind == "audio":
        found_here = _short_voice(found, limits)
    else:
        spoken = liproutes.windows(shot.request, made or {}) if shot is not None else []
        found_here = [*_cuts(found, limits, intent), *_stretches(found, limits),
                      *_sound(found, spoken, limits, intent), *_windows(found, spoken, limits),
                      *_against(found, shot, limits)]
    return sorted((f for f in found_here if f.kind not in ignored),
                  key=lambda f: (f.start, f.kind))


NEAR = 0.1  # seconds: a cut this close to a black stretch's ends is that stretch


def _cuts(found: Measured, limits: Thresholds, intent: Mapping[str, Any]) -> list[Finding]:
    black = [(s, e) for s, e in found.black if e - s >= limits.black_seconds]
    cuts = [(t, s) for t, s in found.cuts if s >= limits.cut_score and not any(
        abs(t - b) <= NEAR for pair in black for b in pair)]
    wanted = intent.get("cuts")
    if wanted is not None and len(cuts) == int(wanted):
        return []
    said = f" ({len(cuts)} found, {wanted} intended)" if wanted is not None else ""
    return [Finding("cut", t, t, "error", f"a scene change of score {s:g}{said}")
            for t, s in cuts]


def _stretches(found: Measured, limits: Thresholds) -> list[Finding]:
    black = [Finding("black", s, e, "error", f"{e - s:.2f} s of black frames")
             for s, e in found.black if e - s >= limits.black_seconds]
    frozen = [Finding("frozen", s, e, "error", f"{e - s:.2f} s of the same frame")
              for s, e in found.frozen if e - s >= limits.freeze_seconds and not any(
                  b.start - NEAR <= s and e <= b.end + NEAR for b in black)]  # black is still
    return [*black, *frozen]


Spoken = list[tuple[Line, float, float]]  # each line and the window its words fill


def _sound(found: Measured, spoken: Spoken, limits: Thresholds,
           intent: Mapping[str, Any]) -> list[Finding]:
    if intent.get("silent"):
        return []
    if not found.has_audio:  # no sound at all: every spoken line is unspoken
        return [Finding("silent_line", start, end, "error", f"{who} says nothing: the take "
                        "has no sound") for who, start, end, _ in _unspoken(found, spoken)]
    out = [Finding("silent_line", s, e, "error", f"{who} says nothing: {share:.0%} of the "
                   "line's window is silent") for who, s, e, share in _unspoken(found, spoken)
           if share >= limits.line_silence]
    if found.peak_db is not None and found.peak_db >= limits.clip_db and \
            found.peak_count >= CLIP_COUNT:
        out.append(Finding("clipping", 0.0, found.seconds, "warning",
                           f"the peak ({found.peak_db:g} dBFS) is reached "
                           f"{found.peak_count} times"))
    loud = found.loudness  # ebur128's floor (-70 LUFS) is no sound at all: no loudness to judge
    if loud is not None and loud > NO_SOUND and not limits.loudness_min <= loud <= limits.loudness_max:
        side = "quiet" if loud < limits.loudness_min else "loud"
        out.append(Finding("loudness", 0.0, found.seconds, "warning",
                           f"{loud:g} LUFS is too {side} (expected {limits.loudness_min:g} "
                           f"to {limits.loudness_max:g})"))
    return out


def _unspoken(found: Measured, spoken: Spoken) -> Iterable[tuple[str, float, float, float]]:
    """Each line's speaker and the window its words fill, and the share of it in silence."""
    for line, start, promised in spoken:
        end = min(promised, found.seconds or promised)
        if end <= start:
            continue
        quiet = sum(max(0.0, min(e, end) - max(s, start)) for s, e in found.silence)
        yield line.speaker, start, end, quiet / (end - start)


def _windows(found: Measured, spoken: Spoken, limits: Thresholds) -> list[Finding]:
    """Each spoken line held to its window: its words (a made line, as long as it was made) no
    longer than the line's window, and the window within the take."""
    out = []
    for line, start, end in spoken:
        if end - start > line.end - line.start + limits.duration_tolerance:
            out.append(Finding("line_long", line.end, end, "error", f"{line.speaker}'s line "
                               f"lasts {end - start:.2f} s, its window {line.end - start:g} s"))
        if max(end, line.end) > found.seconds + limits.duration_tolerance:
            out.append(Finding("line_cut", found.seconds, max(end, line.end), "error",
                               f"{line.speaker}'s line runs to {max(end, line.end):g} s; the "
                               f"take ends at {found.seconds:g} s"))
    return out


def _against(found: Measured, shot: CompiledShot | None, limits: Thresholds) -> list[Finding]:
    """The file's length, size and ratio against the request's."""
    if shot is None:
        return []
    request, out = shot.request, []
    asked = float(request.duration)
    if abs(found.seconds - asked) > limits.duration_tolerance:
        side = "short" if found.seconds < asked else "long"
        out.append(Finding("duration", min(found.seconds, asked), max(found.seconds, asked),
                           "error", f"{found.seconds:g} s, {abs(found.seconds - asked):.2f} s "
                           f"too {side} (asked for {asked:g} s)"))
    short = min(found.width, found.height)
    wanted = SIZES.get(request.resolution)
    if wanted is not None and short and abs(short - wanted) > wanted * 0.1:
        out.append(_size(found, request.resolution, request.model))
    out += _ratio(found, request.ratio)
    return out


def _size(found: Measured, resolution: str, model_id: str) -> Finding:
    """Another size than asked: an error, but for a pass that promises its take's framing (not
    its pixels), whose size the stitch scales back to the episode's: said, not an error."""
    model = model_of(model_id)
    if model is not None and model.keeps_framing:
        return Finding("size", 0.0, found.seconds, "warning", f"{found.width}x{found.height}, "
                       f"its take {resolution}: {model.id} changed the size; the stitch scales "
                       "it to the episode's")
    return Finding("size", 0.0, found.seconds, "error", f"{found.width}x{found.height} is not "
                   f"{resolution}")


def _ratio(found: Measured, ratio: str) -> list[Finding]:
    if ":" not in ratio or not found.height:
        return []  # "adaptive": the first frame decides
    w, h = (int(x) for x in ratio.split(":"))
    if abs(found.width / found.height - w / h) <= 0.03 * (w / h):
        return []
    return [Finding("ratio", 0.0, found.seconds, "error",
                    f"{found.width}x{found.height} is not {ratio}")]


def _blank(found: Measured, limits: Thresholds) -> list[Finding]:
    if found.spread is None or found.spread >= limits.uniform_spread:
        return []
    return [Finding("blank", 0.0, 0.0, "error", f"a near-uniform picture (its luma spans "
                    f"{found.spread:g} levels)")]


def _board_size(found: Measured, shot: CompiledShot | None) -> list[Finding]:
    """A board's picture against the size it asked for (``W*H``): another size, another ratio (a
    board becomes a video's first frame, whose ratio it sets)."""
    if shot is None or shot.asset is None or not is_board(shot.shot_id):
        return []
    width, _, height = shot.asset.size.partition("*")
    if not (width.isdigit() and height.isdigit() and found.width and found.height):
        return []
    w, h = int(width), int(height)
    if abs(found.width - w) <= w * 0.1 and abs(found.height - h) <= h * 0.1:
        return []
    return [Finding("size", 0.0, 0.0, "error", f"{found.width}x{found.height}, asked for "
                    f"{w}x{h}"), *_ratio(found, f"{w}:{h}")]


def _short_voice(found: Measured, limits: Thresholds) -> list[Finding]:
    if found.seconds >= limits.voice_seconds:
        return []
    return [Finding("short", 0.0, found.seconds, "error",
                    f"{found.seconds:.2f} s of sound (at least {limits.voice_seconds:g} s)")]


def blocking(findings: Iterable[Finding], limits: Thresholds) -> list[Finding]:
    """The findings that make ``approve`` ask for ``--force``."""
    floor = SEVERITIES.index(limits.approve)
    return [f for f in findings if f.severity in SEVERITIES and
            SEVERITIES.index(f.severity) >= floor]


# --- a run's takes, and what views show ------------------------------------------------------


@dataclass
class Report:
    """What measuring a run's takes did and found."""

    measured: list[str]  # the takes (``series/episode/shot#k``) measured by this run
    remeasured: list[str]  # of those, the ones an older measurer had measured
    findings: dict[str, list[Finding]]  # take -> its findings (only takes with some)
    version: int = measuring.VERSION
    files: list[str] = field(default_factory=list)  # the sha256 of the files measured now
    notes: list[str] = field(default_factory=list)  # what was not measured, and how to

    def lines(self) -> list[str]:
        """The summary a render prints at its end."""
        said = [f"measured {len(self.measured)} new take(s)" + (
            f" ({len(self.remeasured)} again: this storyboard's measurer (v{self.version}) "
            "measures more than the one that measured them)" if self.remeasured else "")]
        for key, found in sorted(self.findings.items()):
            said += [f"{key}: {f.line()}" for f in found]
        return said + self.notes


def measure_takes(root: Path, cache: OutputCache, takes: Iterable[CompiledShot],
                  limits: Thresholds, ahead: Mapping[str, Outcome] | None = None) -> Report:
    """Measure each take the cache holds (each file once) and judge it; ``ahead``: the files
    measured already as they arrived, by sha256."""
    report = Report([], [], {})
    early = dict(ahead or {})
    for take in takes:
        entry = cache.get(take.hash)
        if entry is None:
            continue
        outcome = early.pop(entry.sha256, None) or \
            measure_file(root, cache.path(take.hash), entry.sha256, kind_of(take))
        if outcome.fresh:
            report.measured.append(take_key(take))
            report.files.append(entry.sha256)
        if outcome.older is not None:
            report.remeasured.append(take_key(take))
        found = judge(outcome.measured, take, limits, made_seconds(root, take)) \
            if outcome.measured else []
        if found:
            report.findings[take_key(take)] = found
    return report


def findings_of(root: Path, sha256: str | None, take: CompiledShot | None,
                limits: Thresholds) -> list[Finding] | None:
    """The findings of the file with ``sha256`` as measured (None: not measured); nothing is
    measured here."""
    known = recorded(root, sha256) if sha256 else None
    made = made_seconds(root, take) if take is not None else {}
    return None if known is None else judge(known, take, limits, made)


def made_seconds(root: Path, take: CompiledShot) -> dict[str, float]:
    """How long each line ``take`` hands over as audio was made (``lines/EP/SHOT``, as measured
    on arrival), by asset id; a line not made or not measured yet is left out (its scene's
    window holds)."""
    assets = {line.audio.asset for scene in take.request.scenes for line in scene.lines
              if line.audio is not None and line.audio.asset}
    if not assets:
        return {}
    shots = read_lock(lock_path(root)).shots
    found = {}
    for asset in sorted(assets):
        sha = (shots.get(f"{take.series}/{asset}") or {}).get("output_sha256")
        known = recorded(root, str(sha)) if sha else None
        if known is not None:
            found[asset] = known.seconds
    return found
