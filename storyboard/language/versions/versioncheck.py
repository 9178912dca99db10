"""A series' version files against its lines into ``check``'s warnings: stale, missing, wordless, too long.

For each language the series versions into and each episode versioned into it, the version file
(``languages/<lang>/<episode>.yaml``), when there is one, is read (its errors at their lines) and
held to the series as compiled: a line whose source words changed since it was translated is
stale (``translate`` proposes its new words, never writes over it); a line with no words yet is
said; an entry for a line the series no longer has, and a line of the series the file lacks,
are said. A line made and measured longer than its window warns with the seconds over and
what becomes of it in its room (``fit.fit_warning``): the measurement is read, never guessed
(``measured``).
"""

from __future__ import annotations

import json
from pathlib import Path

from storyboard.errors import Diagnostic, ProblemsFound, Span
from storyboard.language.read.series import Source
from storyboard.language.request import CompiledEpisode, Manifest
from storyboard.language.versions import languages as langs
from storyboard.language.versions.linefit import fit_warning, room
from storyboard.language.versions.versionfile import (
    FOLDER,
    Version,
    VersionLine,
    is_untranslated,
    label_line,
    read_version,
    source_lines,
    text_hash,
    title_line,
    version_path,
)

MEASURED = Path(".storyboard") / "languages"  # each made line's seconds, by language and episode
MAX_MEASURED_BYTES = 1 << 20


Measured = dict[tuple[str, int], tuple[str, float]]  # (shot, n): (the words' hash, seconds)


def measured(root: Path, language: str, episode: str, home: str | None = None) -> Measured:
    """Each version line's seconds as made and measured, by (shot, n), for the words it has now:
    ``.storyboard/languages/<lang>/<episode>.json``, ``{"lines": [{"shot", "n", "text" (the
    words' ``text_hash``), "seconds"}]}``, written where a line is made (a matrix base's
    version, ``home``: under ``<lang>/<home>/``); read as untrusted (a file that does not read
    is no measurement)."""
    path = measured_path(root, language, episode, home)
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(MAX_MEASURED_BYTES + 1)[:MAX_MEASURED_BYTES])
    except (OSError, ValueError):
        return {}
    rows = data.get("lines") if isinstance(data, dict) else None
    found: Measured = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("seconds"), int | float) and \
                isinstance(row.get("shot"), str) and type(row.get("n")) is int and \
                isinstance(row.get("text"), str):
            found[(row["shot"], row["n"])] = (row["text"], float(row["seconds"]))
    return found


def measured_path(root: Path, language: str, episode: str, home: str | None = None) -> Path:
    """Where an episode's made lines' seconds are kept (``measured``)."""
    folder = root / MEASURED / language
    return (folder / home if home else folder) / f"{episode}.json"


def seconds_of(table: Measured, line: VersionLine) -> float | None:
    """``line``'s measured seconds, when they were measured for the words it has now."""
    words, seconds = table.get(line.key, ("", 0.0))
    return seconds if words == text_hash(line.text) else None


def version_problems(source: Source, manifest: Manifest, home: str | None = None
                     ) -> list[Diagnostic]:
    """Every version file's problems against the series (none when it declares no languages);
    ``home``: a matrix base's own folder of versions (``version_path``)."""
    series = source.series.data
    if len(langs.series_languages(series)) < 2:
        return unused(source.root, set(), langs.series_languages(series))
    data = langs.episode_ids(source)
    found: list[Diagnostic] = []
    used: set[Path] = set()
    for number, episode in enumerate(manifest.episodes, start=1):
        for language in langs.versions_of(series, data.get(episode.id, {})):
            path = version_path(source.root, language, episode.id, home)
            used.add(path)
            if path.is_file():
                found += _episode(source.root, path, language, episode, home, number)
    return found + unused(source.root, used, langs.series_languages(series), home)


def unused(root: Path, used: set[Path], languages: tuple[str, ...], home: str | None = None
           ) -> list[Diagnostic]:
    """A version file no episode's version reads (another language, an episode gone or
    narrowed out, a matrix base's kept flat): said once, so a file is never silently ignored."""
    folder = root / FOLDER
    files = sorted(folder.glob("*/*.yaml")) if folder.is_dir() else []
    why = ("each base of this matrix has its versions in its own folder, "
           "languages/<lang>/<base>/ (docs/variations.md, \"A language axis\")") if home else (
        f"no episode {{stem!r}} is versioned into {{lang!r}} (the series' languages: "
        f"{', '.join(languages) or 'none'}; an episode's languages: may narrow them)")
    return [Diagnostic(Span(str(path), 1, 1), "this file is not used: " + why.format(
        stem=path.stem, lang=path.parent.name), "warning", code="version-unused")
        for path in files if path not in used and not path.is_symlink()]


def _episode(root: Path, path: Path, language: str, episode: CompiledEpisode,
             home: str | None = None, number: int = 0) -> list[Diagnostic]:
    try:
        version = read_version(path, root)
    except ProblemsFound as problems:
        return problems.diagnostics
    found = _cards(version, episode, number)
    lines = {line.key: line for line in source_lines(episode)}
    table = measured(root, language, episode.id, home)
    durations = {shot.id: float(shot.request.duration) for shot in episode.shots}
    for line in version.lines:
        now = lines.get(line.key)
        if now is None:
            found.append(_at(version, line, f"shot {line.shot} has no line {line.n} in the "
                                            "series any more: this entry is not used",
                             "version-unused"))
        elif line.source != now.source:
            found.append(_at(version, line, (
                f"stale: the source line is now {now.source!r}, and this was translated from "
                f"{line.source!r}; fix text and source by hand, or run storyboard translate "
                f"(it proposes the new words beside this file)"), "version-stale"))
        elif is_untranslated(line):
            found.append(_at(version, line, "no words yet: write the line's text (or run "
                                            "storyboard translate)", "version-untranslated"))
        else:
            space = room(line, version.lines, durations.get(line.shot, line.end))
            fit = fit_warning(line, seconds_of(table, line), line.window, _text(version, line),
                              space=space)
            found += [fit] if fit is not None else []
    missing = [f"{k[0]} {k[1]}" for k in lines if version.line(*k) is None]
    if missing:
        found.append(Diagnostic(Span(str(path), 1, 1), (
            f"{len(missing)} line(s) of episode {episode.id} have no entry ({', '.join(missing)}):"
            f" run storyboard translate --language {language}, or add them by hand"),
            "warning", _line_text(version, 1), code="version-missing"))
    return found


def _cards(version: Version, episode: CompiledEpisode, number: int) -> list[Diagnostic]:
    """The title card's entries whose source changed: the episode's title, its "Episode N"
    (the episode moved)."""
    found = []
    for what, had, now in (("title", version.title, title_line(episode)),
                           ("title card's number", version.label, label_line(episode, number))):
        if had is not None and now is not None and had.source != now.source:
            found.append(_at(version, had, (
                f"stale: the episode's {what} is now {now.source!r}, and this was translated "
                f"from {had.source!r}; fix text and source by hand, or run storyboard "
                "translate (it proposes the new words beside this file)"), "version-stale"))
    return found


def _text(version: Version, line: VersionLine) -> str | None:
    return _line_text(version, line.span.line) if line.span is not None else None


def _line_text(version: Version, number: int) -> str | None:
    return version.file_lines[number - 1] if 0 < number <= len(version.file_lines) else None


def _at(version: Version, line: VersionLine, message: str, code: str) -> Diagnostic:
    return Diagnostic(line.span, message, "warning", _text(version, line), code=code)


def versions_in(source: Source, manifest: Manifest, language: str, home: str | None = None
                ) -> list[tuple[CompiledEpisode, Version]]:
    """Each episode versioned into ``language`` with its version: its file as it stands (a
    matrix base's in its ``home``), else the series' lines with no words yet (a broken file:
    ``ProblemsFound``)."""
    series, data = source.series.data, langs.episode_ids(source)
    original = langs.original(series) or ""
    found = []
    for episode in manifest.episodes:
        if language in langs.versions_of(series, data.get(episode.id, {})):
            path = version_path(source.root, language, episode.id, home)
            version = read_version(path, source.root) if path.is_file() else Version(
                language, original, episode.id, tuple(source_lines(episode)))
            found.append((episode, version))
    return found
