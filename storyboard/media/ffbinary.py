"""ffmpeg candidates into the one binary storyboard runs: what each can do, and why one is used.

storyboard relies on a known set of features (filters, a few filter options, encoders, formats),
listed in ``FEATURES`` with the ffmpeg release that brought each; everything storyboard draws is
written in forms that work from ffmpeg 4.4 up. A candidate binary is probed for those features with
a handful of cheap queries (``-version``, ``-filters``, ``-encoders``, ``-formats``,
``-h filter=NAME``), and the answer is cached per binary path, size and mtime, in memory and in
``$XDG_CACHE_HOME/storyboard/ffmpeg.json``, so the probe runs once per binary, not once per command.

The choice, in order:

1. an explicit choice wins: ``STORYBOARD_FFMPEG=/path``, else ``ffmpeg:`` in the user settings file
   (``$XDG_CONFIG_HOME/storyboard/settings.yaml``); if it lacks a feature, using it fails with an
   error naming the binary, its version and what is missing;
2. otherwise the bundled binary (the ``imageio-ffmpeg`` wheel) when it has every feature: its
   version is pinned by the package, so every machine renders the same bytes for the same request;
3. otherwise the ``ffmpeg`` on ``PATH`` when it has every feature;
4. otherwise whichever candidate misses least, reported as such.

``storyboard doctor`` prints the choice, each candidate's version and the reason.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from storyboard.errors import FFmpegError
from storyboard.files import write_atomic
from storyboard.media import processes

ENV_VAR = "STORYBOARD_FFMPEG"
SETTINGS_KEY = "ffmpeg"
CACHE_VERSION = 2
PROBE_TIMEOUT = 30

Kind = Literal["filter", "option", "encoder", "muxer", "demuxer"]


@dataclass(frozen=True)
class Feature:
    """One thing storyboard needs from ffmpeg; ``since`` is the release that brought it."""

    kind: Kind
    name: str  # the filter, encoder or format; for an option, its filter
    option: str = ""  # for kind "option": the option (or value) that must be listed
    since: str = "4.4"
    use: str = ""

    def __str__(self) -> str:
        if self.kind == "option":
            return f"filter {self.name} option {self.option} (ffmpeg {self.since}+)"
        return f"{self.kind} {self.name} (ffmpeg {self.since}+)"


def _opts(filter_name: str, use: str, *names: str, since: str = "4.4") -> list[Feature]:
    return [Feature("option", filter_name, n, since, use) for n in names]


FEATURES: tuple[Feature, ...] = (
    Feature("encoder", "libx264", use="every clip and episode"),
    Feature("encoder", "aac", use="every clip and episode"),
    Feature("encoder", "png", use="first frames taken from other shots"),
    Feature("encoder", "pcm_f32le", use="stitching"),
    Feature("encoder", "wavpack", use="stitching (the mezzanines' sound)"),
    Feature("muxer", "wv", use="stitching (the mezzanines' sound)"),
    Feature("demuxer", "wv", use="stitching (the mezzanines' sound)"),
    Feature("demuxer", "lavfi", use="backgrounds and silence"),
    Feature("demuxer", "concat", use="stitching"),
    Feature("muxer", "framecrc", use="measuring streams"),
    Feature("muxer", "mp4", use="every clip and episode"),
    Feature("muxer", "image2", use="first frames taken from other shots"),
    Feature("filter", "drawtext", use="the animatic's text (needs libfreetype)"),
    *_opts("drawtext", "the animatic's text", "textfile", "expansion", "line_spacing",
           "borderw", "boxborderw"),
    Feature("filter", "subtitles", use="burn_subtitles (needs libass)"),
    Feature("filter", "xfade", since="4.3", use="transitions"),
    *_opts("xfade", "transitions", "fadeblack", "dissolve", "wipeleft", "slideleft", "offset",
           since="4.3"),
    Feature("filter", "extractplanes", use="transitions (blended plane by plane)"),
    Feature("filter", "threshold", use="dissolves"),
    Feature("filter", "loop", use="dissolves"),
    Feature("filter", "geq", use="dissolves"),
    Feature("demuxer", "rawvideo", use="dissolves"),
    *_opts("mergeplanes", "transitions (blended plane by plane)", "mapping", "format"),
    Feature("filter", "acrossfade", use="transitions"),
    Feature("filter", "tpad", since="4.2", use="stitching"),
    *_opts("alimiter", "loudness (true-peak ceiling)", "attack", "level"),
    *_opts("ebur128", "loudness measurement", "peak", "metadata"),
    Feature("filter", "ametadata", use="each shot's loudness, block by block"),
    Feature("filter", "boxblur", use="first frames from other shots"),
    Feature("filter", "eq", use="first frames from other shots"),
    Feature("filter", "asetnsamples", use="music ducking, the mezzanines' sound"),
    *_opts("amix", "mixing voices and music", "normalize", since="4.4"),
    *_opts("adelay", "voices at their lines", "all", since="4.3"),
    *_opts("scale", "fitting clips", "force_divisible_by", since="4.3"),
)

_OPTION_FILTERS = tuple(sorted({f.name for f in FEATURES if f.kind == "option"}))


@dataclass(frozen=True)
class Candidate:
    """One ffmpeg binary, where it came from, its version and what it lacks."""

    path: str
    source: str  # "STORYBOARD_FFMPEG", "settings (...)", "PATH", "bundled (imageio-ffmpeg)"
    version: str = ""
    missing: tuple[str, ...] = ()
    error: str = ""  # set when the binary could not be run at all

    @property
    def usable(self) -> bool:
        return not self.error and not self.missing

    @property
    def label(self) -> str:
        return f"ffmpeg {self.version or '(unknown version)'} at {self.path}"

    def summary(self) -> str:
        if self.error:
            return f"{self.path} [{self.source}]: cannot run it: {self.error}"
        state = "has every feature" if not self.missing else "lacks " + "; ".join(self.missing)
        return f"{self.label} [{self.source}]: {state}"


@dataclass(frozen=True)
class Choice:
    """The binary in use, why, and every candidate considered (the chosen one included)."""

    chosen: Candidate
    reason: str
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    explicit: bool = False

    def require(self) -> str:
        """The chosen path; an explicit choice that lacks features fails here, clearly."""
        c = self.chosen
        if c.error:
            raise FFmpegError(f"{c.path} ({c.source}) cannot be run: {c.error}")
        if c.missing and self.explicit:
            raise FFmpegError(
                f"{c.label} (chosen by {c.source}) lacks what storyboard needs: "
                f"{'; '.join(c.missing)}. Point {ENV_VAR} at ffmpeg 4.4 or newer built with "
                f"libx264, libfreetype and libass, or unset it to let storyboard choose "
                f"(`storyboard doctor` shows the choice).")
        return c.path


# --- probing ---------------------------------------------------------------------------------

_VERSION_RE = re.compile(r"^ffmpeg version (\S+)", re.M)
_LIST_RE = re.compile(r"^\s*[A-Z.|]{2,8}\s+(\S+)", re.M)


def _ask(path: str, *args: str) -> str:
    proc = processes.run([path, "-hide_banner", "-nostdin", *args], PROBE_TIMEOUT)
    return proc.stdout + proc.stderr


def _names(listing: str) -> set[str]:
    """The names in an ``-filters``/``-encoders``/``-formats`` listing (``a,b`` split too)."""
    return {n for match in _LIST_RE.findall(listing) for n in match.split(",")}


def _formats(listing: str, flag: str) -> set[str]:
    """Formats with ``D`` (demux) or ``E`` (mux) in their flags column."""
    found: set[str] = set()
    for line in listing.splitlines():
        m = re.match(r"^ ([D ])([E ])[d ]?\s+(\S+)", line)
        if m and (m.group(1) if flag == "D" else m.group(2)) == flag:
            found.update(m.group(3).split(","))
    return found


def _option_listed(help_text: str, option: str) -> bool:
    return re.search(rf"^\s+{re.escape(option)}\s", help_text, re.M) is not None


def missing_features(filters: str, encoders: str, formats: str,
                     help_texts: dict[str, str]) -> tuple[str, ...]:
    """What of ``FEATURES`` a binary lacks, from its answers to the cheap queries."""
    have = {"filter": _names(filters), "encoder": _names(encoders),
            "muxer": _formats(formats, "E"), "demuxer": _formats(formats, "D")}
    missing = []
    for feature in FEATURES:
        if feature.kind == "option":
            ok = _option_listed(help_texts.get(feature.name, ""), feature.option)
        else:
            ok = feature.name in have[feature.kind]
        if not ok:
            missing.append(str(feature))
    return tuple(missing)


def _probe(path: str) -> tuple[str, tuple[str, ...]]:
    queries: list[tuple[str, ...]] = [("-version",), ("-filters",), ("-encoders",), ("-formats",)]
    queries += [("-h", f"filter={name}") for name in _OPTION_FILTERS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda q: _ask(path, *q), queries))
    version = _VERSION_RE.search(answers[0])
    if version is None:
        raise OSError(f"it does not answer like ffmpeg ({answers[0].strip()[:80]!r})")
    helps = dict(zip(_OPTION_FILTERS, answers[4:], strict=True))
    return version.group(1), missing_features(answers[1], answers[2], answers[3], helps)


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storyboard" / "ffmpeg.json"


_lock = threading.Lock()


@functools.cache
def _features_digest() -> str:
    """Changes whenever ``FEATURES`` does, so a new feature list probes every binary again."""
    text = "\n".join(f"{f.kind}:{f.name}:{f.option}" for f in FEATURES)
    return hashlib.sha256(f"{CACHE_VERSION}\n{text}".encode()).hexdigest()[:12]


def _stamp(path: str) -> str:
    st = os.stat(path)
    return f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}|{_features_digest()}"


def _read_cache() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(data: dict[str, dict[str, object]]) -> None:
    target = _cache_file()
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs a probe next time
        write_atomic(target, json.dumps(data, indent=1, sort_keys=True), durable=False)


@functools.cache
def describe(path: str, source: str) -> Candidate:
    """Probe ``path`` (cached by path, size and mtime) into a Candidate."""
    try:
        stamp = _stamp(path)
    except OSError as exc:
        return Candidate(path, source, error=exc.strerror or str(exc))
    with _lock:
        cached = _read_cache().get(stamp)
    if not isinstance(cached, dict):
        cached = None  # absent, or a damaged cache entry: probe again
    missing = cached.get("missing") if cached is not None else None
    if cached is not None and isinstance(missing, list):
        return Candidate(path, source, str(cached.get("version", "")), tuple(map(str, missing)))
    try:
        version, missing = _probe(path)
    except (OSError, subprocess.SubprocessError) as exc:
        return Candidate(path, source, error=str(exc))
    with _lock:
        data = _read_cache()
        data[stamp] = {"version": version, "missing": list(missing)}
        _write_cache(data)
    return Candidate(path, source, version, missing)


# --- choosing --------------------------------------------------------------------------------


def settings_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "storyboard" / "settings.yaml"


def _setting() -> str | None:
    path = settings_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError) as exc:
        raise FFmpegError(f"{path}: cannot read the settings file ({exc})") from exc
    value = data.get(SETTINGS_KEY) if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        raise FFmpegError(f"{path}: `{SETTINGS_KEY}:` must be the path of an ffmpeg binary")
    return value or None


def _explicit() -> tuple[str, str] | None:
    if value := os.environ.get(ENV_VAR):
        return _resolve(value), ENV_VAR
    if value := _setting():
        return _resolve(os.path.expanduser(value)), f"{SETTINGS_KEY}: in {settings_file()}"
    return None


def _resolve(value: str) -> str:
    """A bare name (``ffmpeg``) is looked up on PATH; a path is taken as given."""
    if os.sep not in value:
        return shutil.which(value) or value
    return value


def bundled_path() -> str | None:
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a core dependency
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None


BUNDLED = "bundled (imageio-ffmpeg)"


def candidates() -> list[Candidate]:
    """Bundled first, then PATH's (one entry per real file)."""
    found: list[tuple[str, str]] = []
    if (bundled := bundled_path()) is not None:
        found.append((bundled, BUNDLED))
    if (on_path := shutil.which("ffmpeg")) is not None:
        found.append((on_path, "PATH"))
    seen: set[str] = set()
    out = []
    for path, source in found:
        if os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            out.append(describe(path, source))
    return out


def _reason(chosen: Candidate, others: Sequence[Candidate]) -> str:
    passed = [c for c in others if c is not chosen]
    if chosen.source == BUNDLED:
        why = ("it has every feature storyboard uses, and its version is pinned by the package, so "
               "every machine renders the same bytes")
    else:
        why = "it has every feature storyboard uses"
    for other in passed:
        if other.usable:
            why += f"; {other.label} also has them, but the pinned bundled build is preferred"
        else:
            why += f"; passed over {other.summary()}"
    return why


def choose() -> Choice:
    """The binary to use and why (see the module docstring for the order)."""
    if (explicit := _explicit()) is not None:
        chosen = describe(*explicit)
        return Choice(chosen, f"chosen by {chosen.source}", (chosen,), explicit=True)
    found = candidates()
    if not found:
        raise FFmpegError("no ffmpeg found: none on PATH and the imageio-ffmpeg wheel has none "
                          f"for this platform; install ffmpeg 4.4 or newer, or set {ENV_VAR}")
    usable = [c for c in found if c.usable]
    if usable:
        return Choice(usable[0], _reason(usable[0], found), tuple(found))
    runnable = [c for c in found if not c.error] or found
    best = min(runnable, key=lambda c: len(c.missing))
    return Choice(best, "no candidate has every feature; this one misses least", tuple(found))


FFPROBE_ENV = "STORYBOARD_FFPROBE"  # an ffprobe to read media facts with, or "none"
_probers: dict[str, str | None] = {}


def ffprobe() -> str | None:
    """A system ffprobe whose JSON the probes prefer to ffmpeg's log: ``STORYBOARD_FFPROBE``
    (``none``: the log alone), else the one beside the chosen ffmpeg, else PATH's; None when
    there is none (the bundled ffmpeg comes without one)."""
    with _choice_lock:
        if "found" not in _probers:
            _probers["found"] = _find_ffprobe()
        return _probers["found"]


def _find_ffprobe() -> str | None:
    if value := os.environ.get(FFPROBE_ENV):
        return None if value.lower() == "none" else _resolve(value)
    chosen = current_path()
    beside = Path(chosen).with_name("ffprobe") if chosen else None
    if beside is not None and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("ffprobe")


def current_path() -> str | None:
    """The chosen ffmpeg's path, or None when there is none to choose."""
    try:
        return current().chosen.path
    except FFmpegError:
        return None


_choice_lock = threading.RLock()
_chosen: list[Choice] = []


def current() -> Choice:
    """The choice for this process (made once)."""
    with _choice_lock:
        if not _chosen:
            _chosen.append(choose())
        return _chosen[0]


def reset() -> None:
    """Forget the choice and the probes (after the environment changed; for tests)."""
    with _choice_lock:
        _chosen.clear()
        _probers.clear()
    describe.cache_clear()


def doctor_report(choice: Choice) -> dict[str, object]:
    """Plain data for ``storyboard doctor --json``."""
    return {"ffmpeg": choice.chosen.path, "ffprobe": ffprobe(), "version": choice.chosen.version,
            "source": choice.chosen.source, "reason": choice.reason,
            "missing": list(choice.chosen.missing),
            "candidates": [asdict(c) for c in choice.candidates],
            "features": [str(f) for f in FEATURES]}


__all__ = [
    "BUNDLED",
    "ENV_VAR",
    "FEATURES",
    "FFPROBE_ENV",
    "Candidate",
    "Choice",
    "Feature",
    "bundled_path",
    "candidates",
    "choose",
    "current",
    "describe",
    "doctor_report",
    "ffprobe",
    "missing_features",
    "reset",
    "settings_file",
]
