"""``storyboard doctor`` into the ffmpeg choice, said plainly: which binary, its version, and why;
another distribution that overwrites storyboard's package, and how to undo it; whether the
``faces`` extra is installed (how to add it when not); with a series,
which DashScope host it sends to, and a warning when that host is being retired."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import guarded
from storyboard.errors import StoryboardError

if TYPE_CHECKING:
    from storyboard import installed
    from storyboard.media import ffbinary


def _lines(choice: ffbinary.Choice) -> list[str]:
    from storyboard.media import ffbinary
    chosen = choice.chosen
    lines = [f"ffmpeg:  {chosen.path}", f"version: {chosen.version or '(unknown)'}",
             f"source:  {chosen.source}", f"why:     {choice.reason}"]
    if chosen.error:
        lines.append(f"problem: it cannot be run: {chosen.error}")
    for missing in chosen.missing:
        lines.append(f"missing: {missing}")
    prober = ffbinary.ffprobe()
    lines.append(f"ffprobe: {prober} (media facts are read from its JSON)" if prober else
                 "ffprobe: none (media facts are read from ffmpeg's log)")
    lines.append("candidates:")
    lines += [f"  - {c.summary()}" for c in choice.candidates]
    lines.append(f"choose another with {ffbinary.ENV_VAR}=/path/to/ffmpeg, or `ffmpeg: PATH` in "
                 f"{ffbinary.settings_file()}")
    return lines


def host_report(series: Path) -> dict[str, Any]:
    """The DashScope host a series sends to (``render --provider dashscope``), why, and a warning
    when that host is being retired."""
    from storyboard.errors import mask_urls
    from storyboard.language.read.series import load_source
    from storyboard.providers.dashscope.settings import DashScopeSettings
    from storyboard.providers.dashscope.wire import retiring
    from storyboard.targets.kinds import DASHSCOPE, KINDS, has, named

    data = load_source(series).series.data
    block = data.get("provider") if isinstance(data, dict) else None
    block = dict(block) if isinstance(block, dict) else {}
    name = named(block)
    kind = KINDS.get(name)
    if kind is None or (kind.settings and not kind.regions):
        base = block.get("base_url")
        return {"provider": name, "host": mask_urls(str(base)) if base else None,
                "source": "provider.base_url", "warning": None}
    # a block without a name is local's: DashScope's settings are then its defaults
    settings = DashScopeSettings.from_mapping(block if has(block.get("name"), "regions") else {})
    host = settings.resolved_base_url()
    return {"provider": DASHSCOPE.name, "host": mask_urls(host), "source": settings.host_source(),
            "warning": retiring(host)}


def clash_lines(clashes: list[tuple[str, str]], here: installed.Installation | None = None) -> list[str]:
    """What a user reads when another distribution installs the ``storyboard`` package too."""
    from storyboard import installed
    here = here or installed.current()
    lines = [f"install: storyboard is {here.describe()}"]
    for name, version in clashes:
        lines.append(f"clash:   the distribution {name} {version} (an unrelated project) also installs "
                     "the `storyboard` package and command here: each overwrites the other's files")
        lines += [f"fix:     {command}" for command in installed.remove_other(here, name)]
    return lines


def faces_report() -> dict[str, Any]:
    """Whether the ``faces`` extra is installed (identity, look and grade measured), and if not
    what adds it."""
    from storyboard.media.faces.detector import FacesMissing, missing
    absent = missing()
    return {"installed": absent is None, "missing": absent,
            "message": None if absent is None else str(FacesMissing(absent))}


def faces_line(report: dict[str, Any]) -> str:
    if report["installed"]:
        return "faces:   installed (takes are measured for identity, look and grade)"
    return f"faces:   not installed: {report['message']}"


def _host_lines(report: dict[str, Any]) -> list[str]:
    lines = [f"host:    {report['host'] or '(none set)'} ({report['provider']}, from "
             f"{report['source']})"]
    if report["warning"]:
        lines.append(f"warning: {report['warning']}")
    return lines


@click.command()
@click.argument("series", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def doctor(series: Path | None, as_json: bool) -> None:
    """Show which ffmpeg storyboard uses, its version and why; exit 1 if it lacks a feature, or if
    another distribution (the unrelated `storyboard`) installs the same package here.

    With SERIES (a folder or its storyboard.yaml): also the DashScope host it sends to, and a
    warning when that host is being retired."""
    from storyboard.media import ffbinary
    try:
        choice = ffbinary.choose()
    except StoryboardError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    from storyboard.installed import clashes
    host = guarded(lambda: host_report(series)) if series is not None else None
    found = clashes()
    faces = faces_report()
    if as_json:
        report = ffbinary.doctor_report(choice)
        report["clashes"] = [{"distribution": name, "version": version} for name, version in found]
        report["faces"] = faces
        if host is not None:
            report["host"] = host
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        lines = _lines(choice) + [faces_line(faces)] + (clash_lines(found) if found else [])
        click.echo("\n".join(lines + (_host_lines(host) if host else [])))
    sys.exit(0 if choice.chosen.usable and not found else 1)
