"""A path into the documents of a series: ``storyboard.yaml`` and the episode files it names.

``PATH`` may be the series folder, its ``storyboard.yaml``, or a single file holding everything
(episodes inline). Episode entries are files or globs (expanded in sorted order) relative to the
series file, or inline mappings. Each document is schema-checked here; every problem is collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import Diagnostic, Span, StoryboardError
from storyboard.language.document import Document, PathKey, display_path
from storyboard.language.read import schemacheck
from storyboard.language.read.load import parse, read_yaml_text
from storyboard.language.read.parsecache import ParseCache

SERIES_FILES = ("storyboard.yaml", "storyboard.yml")
EPISODE_FOLDER = "episodes"  # where a series keeps its episode files (``left_out``)
LEFT_OUT = "series-episode-left-out"


class UsageError(StoryboardError):
    """The PATH given is not a series at all (exit code 2, like a wrong flag)."""

    exit_code = 2


@dataclass
class EpisodeSource:
    doc: Document
    path: PathKey  # where the episode mapping sits in ``doc``: () for a file, ("episodes", i) inline
    default_id: str


@dataclass
class Source:
    root: Path
    series: Document
    episodes: list[EpisodeSource] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    cache: ParseCache = field(default_factory=lambda: ParseCache(None))
    variation: str | None = None  # set by ``expand`` on each variation of a matrix

    @property
    def name(self) -> str:
        """The series' folder name, or ``series/variation`` for one variation of a matrix."""
        return f"{self.root.name}/{self.variation}" if self.variation else self.root.name


def find_series_file(path: Path) -> Path:
    if path.is_dir():
        for name in SERIES_FILES:
            if (path / name).is_file():
                return path / name
        raise UsageError(f"{path}: no storyboard.yaml in this folder; expected a series folder "
                         "or a storyboard YAML file")
    if path.is_file():
        return path
    raise UsageError(f"{path}: no such file or folder; expected a series folder or a YAML file")


def load_source(path: Path) -> Source:
    """Read the series at ``path`` and every episode it names; schema problems are collected."""
    file = find_series_file(Path(path)).resolve()
    cache = ParseCache(file.parent / ".storyboard" / "parsed", schemacheck.schema_digest())
    doc, problems = load_checked(file, schemacheck.SERIES_SCHEMA, cache)
    source = Source(root=file.parent, series=doc, problems=problems, cache=cache)
    if isinstance(doc.data, dict):
        _collect_episodes(source)
    return source


def load_checked(file: Path, schema: str, cache: ParseCache) -> tuple[Document, list[Diagnostic]]:
    """A file parsed and schema-checked, from the parse cache when its text is unchanged."""
    try:
        text = read_yaml_text(file)
    except ValueError as exc:
        doc = Document(file=file, data=None, lines=[])
        return doc, [doc.diagnostic((), str(exc))]
    cached = cache.get(file, text)
    if cached is not None:
        return cached, []
    doc, problems = parse(text, file)
    doc.digest = cache.key(text)
    if problems:
        return doc, problems
    if not isinstance(doc.data, dict):
        what = {schemacheck.SERIES_SCHEMA: "a mapping with 'storyboard: 1' at the top of the series "
                "file", schemacheck.TEMPLATE_SCHEMA: "a shot template: a mapping with 'shots'"}.get(
                    schema, "an episode: a mapping with 'shots'")
        return doc, [doc.diagnostic((), f"expected {what}")]
    problems = schemacheck.check_schema(doc, schema)
    if not problems:
        cache.put(doc, text)
    return doc, problems


def _collect_episodes(source: Source) -> None:
    entries = source.series.data.get("episodes")
    seen: set[Path] = set()
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict):
            source.episodes.append(EpisodeSource(source.series, ("episodes", index),
                                                 f"ep{index + 1:02d}"))
        elif isinstance(entry, str):
            for file in _expand(source, entry, ("episodes", index)):
                if file not in seen:
                    seen.add(file)
                    _load_episode_file(source, file)
    source.problems += left_out(source, seen)


def left_out(source: Source, seen: set[Path]) -> list[Diagnostic]:
    """A warning at each YAML file of the series' ``episodes/`` folder that no ``episodes:``
    entry includes (``seen``: the files included), saying what to add: the series leaves it out
    (a series file written by hand before ``breakdown`` wrote the episodes, a glob too narrow)."""
    series = source.series.file
    folder = series.parent / EPISODE_FOLDER
    if series.name not in SERIES_FILES or not folder.is_dir() or folder.is_symlink():
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    listed = isinstance(source.series.data.get("episodes"), list)
    out = []
    for file in (f for f in files if f.resolve() not in seen):
        name = f"{EPISODE_FOLDER}/{file.name}"
        fix = (f"add `- {name}` under its `episodes:` (or `- {EPISODE_FOLDER}/*.yaml`: every file "
               f"there), or move the file out of {EPISODE_FOLDER}/") if listed else (
               f"it has no `episodes:` list: add `episodes: [{EPISODE_FOLDER}/*.yaml]` to it")
        out.append(Diagnostic(Span(display_path(file), 1, 1), (
            f"no `episodes:` entry of {series.name} includes this episode file, so the series "
            f"leaves it out: {fix}"), "warning", code=LEFT_OUT))
    return out


def _expand(source: Source, pattern: str, where: PathKey) -> list[Path]:
    base = source.series.file.parent
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        source.problems.append(source.series.diagnostic(
            where, f"episode path {pattern!r} leaves the series folder; expected a path inside it"))
        return []
    is_glob = any(ch in pattern for ch in "*?[")
    files = sorted(p for p in base.glob(pattern) if p.is_file()) if is_glob else [base / pattern]
    if is_glob and not files:
        source.problems.append(source.series.diagnostic(
            where, f"no episode file matches {pattern!r}"))
    elif not is_glob and not files[0].is_file():
        what = "is not a regular file" if files[0].exists() else "does not exist"
        source.problems.append(source.series.diagnostic(where, f"episode file {pattern!r} {what}"))
        return []
    return _confined(source, files, where)


def _confined(source: Source, files: list[Path], where: PathKey) -> list[Path]:
    """Episode files get the confinement media get: a link that leads outside the series
    folder is an error, and its target is never read."""
    inside = []
    for file in files:
        real = file.resolve()
        if real.is_relative_to(source.root):
            inside.append(real)
            continue
        shown = file.relative_to(source.series.file.parent).as_posix()
        source.problems.append(source.series.diagnostic(
            where, f"episode file {shown!r} leads outside the series folder (a link?); expected "
                   f"a file inside {source.root.name}/"))
    return inside


def _load_episode_file(source: Source, file: Path) -> None:
    doc, problems = load_checked(file, schemacheck.EPISODE_SCHEMA, source.cache)
    source.problems += problems
    if isinstance(doc.data, dict):
        source.episodes.append(EpisodeSource(doc, (), file.stem))
