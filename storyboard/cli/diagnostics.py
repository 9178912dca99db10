"""Diagnostics into machine-readable reports: JSON records and GitHub workflow annotations.

``storyboard check --json`` prints a list of ``{file, line, column, severity, code, message}``;
``--format github`` prints ``::error file=F,line=L,col=C,title=CODE::MESSAGE`` lines (and
``::warning``), which GitHub Actions shows on the pull request's diff. Messages are masked
(``mask_urls``) as in the text output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError, mask_urls

FORMATS = ("text", "json", "github")


def record(diagnostic: Diagnostic) -> dict[str, Any]:
    """One diagnostic as plain data (``file``, ``line``, ``column`` are null when it has no place)."""
    span = diagnostic.span
    return {"file": span.file if span else None, "line": span.line if span else None,
            "column": span.col if span else None, "severity": diagnostic.severity,
            "code": diagnostic.stable_code, "message": mask_urls(diagnostic.message)}


def as_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([record(d) for d in diagnostics], indent=2, ensure_ascii=False)


def _data(text: str) -> str:
    """An annotation's message, escaped as the workflow commands want."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A property value (``file=``, ``title=``): also ``:`` and ``,`` escaped."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diagnostic: Diagnostic) -> str:
    """``::error file=...,line=...,col=...,title=CODE::message`` (or ``::warning``)."""
    span = diagnostic.span
    where = [f"file={_property(span.file)}", f"line={span.line}", f"col={span.col}"] \
        if span else []
    props = ",".join([*where, f"title={_property(diagnostic.stable_code)}"])
    return f"::{diagnostic.severity} {props}::{_data(mask_urls(diagnostic.message))}"


def as_github(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(annotation(d) for d in diagnostics)


def report(diagnostics: Sequence[Diagnostic], fmt: str) -> str:
    """The diagnostics in ``fmt`` (``json`` or ``github``)."""
    return as_json(diagnostics) if fmt == "json" else as_github(diagnostics)


def collect(path: Path, var: tuple[str, ...], variation: tuple[str, ...],
            provider: str | None) -> tuple[list[Diagnostic], int]:
    """Every problem ``check`` finds, errors and warnings, without printing them, and the exit
    code they mean (that of the text output: 2 for a PATH that is not a series or a
    ``--variation`` that names none); an error that is no list of problems (a broken ``--var``)
    becomes one without a place."""
    from storyboard.cli.variations import parse_vars
    from storyboard.language.variations import compile_variations

    try:
        variants = compile_variations(path, vars=parse_vars(var),
                                      select=list(variation) or None, provider=provider)
    except ProblemsFound as error:
        found = [*error.diagnostics, *season_file(path)]
        return found, _code(found)
    except StoryboardError as error:
        return [Diagnostic(None, str(error), code="error")], error.exit_code
    found = variants.diagnostics()
    try:  # what the provider finds with no server (ComfyUI's workflows)
        from storyboard.providers.offline import offline_problems
        offline = [d for manifest in variants.manifests
                   for d in offline_problems(manifest, provider)]
    except StoryboardError as error:  # the series' own errors first, as in the text output
        return ([*found, Diagnostic(None, str(error), code="error")],
                _code(found) or error.exit_code)
    found = [*found, *offline, *season_file(path, variants.manifests),
             *stale_versions(variants), *approvals_changed(variants, provider)]
    return found, _code(found)


def stale_versions(variants: Any) -> list[Diagnostic]:
    """Each language version of a plain series whose cut changed since it was made, as a
    warning at the line of the first shot that changed (``run.versions.stale``). Only a series
    with a version made (its stitch state, ``.storyboard/stitch/languages/``) loads the run:
    ``check`` of any other imports nothing a render needs."""
    if not variants.manifests:
        return []
    root = variants.manifests[0].root
    if not any((root / ".storyboard" / where / "languages").is_dir() for where in (".", "stitch")):
        return []
    from storyboard.run.versions.stale import stale_of, warnings
    try:
        return warnings(variants.manifests[0], found=stale_of(variants))
    except StoryboardError:
        return []


def lock_takes(root: Path) -> dict[str, Any]:
    """The take states of the series' lock (``storyboard.lock``), read without the runner (which
    ``compile`` never imports); none when there is no lock or it is not one (``render`` says so)."""
    try:
        data = json.loads((root / "storyboard.lock").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    takes = data.get("takes") if isinstance(data, dict) else None
    return {k: v for k, v in takes.items() if isinstance(v, dict)} if isinstance(takes, dict) \
        else {}


def approvals_changed(variants: Any, provider: str | None) -> list[Diagnostic]:
    """Each approved shot whose request changed since (its YAML, or a picture or look it
    wears), as a warning at its line: what ``render`` and ``season render`` refuse without
    ``--replace-approved`` (``run.trip.approvals``). Only a series whose lock holds an approval
    loads the run."""
    manifests = [m for m in variants.manifests
                 if any("approved" in state for state in lock_takes(m.root).values())]
    if not manifests:
        return []
    from storyboard.run.trip.approvals import approval_warnings
    from storyboard.targets.kinds import is_paid, named
    found: list[Diagnostic] = []
    for manifest in manifests:
        try:
            found += approval_warnings(manifest, not is_paid(named(manifest.provider, provider)))
        except StoryboardError:
            continue
    return found


def season_file(path: Path, manifests: Sequence[Any] = ()) -> list[Diagnostic]:
    """The problems of the series' ``season.yaml`` (``breakdown.seasoncheck``), its hooks held
    to the episodes' own when the series compiled (``manifests``: a plain series' one), and its
    cast and its lines' speakers held to the story the breakdown read (``breakdown.castcheck``,
    ``breakdown.linecheck``)."""
    folder = path if path.is_dir() else path.parent
    if not (folder / "season.yaml").is_file() and \
            not (folder / ".storyboard" / "breakdown" / "last.json").is_file():
        return []  # no season and no breakdown's record: the breakdown's checks are not loaded
    from storyboard.breakdown.castcheck import cast_problems
    from storyboard.breakdown.linecheck import line_problems
    from storyboard.breakdown.seasoncheck import season_problems
    hooks = None
    if len(manifests) == 1:
        hooks = {e.id: str(e.settings.get("hook") or "").strip() for e in manifests[0].episodes}
    return [*season_problems(folder, hooks), *cast_problems(folder), *line_problems(folder)]


def _code(found: Iterable[Diagnostic]) -> int:
    return 1 if any(d.severity == "error" for d in found) else 0


def check(path: Path, var: tuple[str, ...], variation: tuple[str, ...], provider: str | None,
          fmt: str) -> None:
    """``storyboard check --json`` / ``--format github``: the report on stdout; the exit code
    the text output has for the same cause (1: an error in the series, 2: not a series)."""
    found, code = collect(path, var, variation, provider)
    click.echo(report(found, fmt))
    sys.exit(code)
