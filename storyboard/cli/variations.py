"""``--var`` and ``--variation`` into library calls: check, compile and plan of a matrix.

The commands in ``cli`` load every series through ``load_variants``; a series without a matrix
goes on exactly as before, one with a matrix comes here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli import complete
from storyboard.errors import Diagnostic, StoryboardError

if TYPE_CHECKING:  # the compiler, the runner and the views are imported where they are used
    from rich.table import Table

    from storyboard.dialects.base import Dialect
    from storyboard.language.variations import Variants
    from storyboard.run.variations import MatrixPlan

VAR = click.option("--var", "var", multiple=True, metavar="KEY=VALUE",
                   help="Set a template variable (over the series' vars; repeatable).")
VARIATION = click.option("--variation", "variation", multiple=True, metavar="NAME|GLOB",
                         help="Only the variations with this name or matching this glob "
                              "(repeatable).", shell_complete=complete.variations)


def parse_vars(values: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; a value is read as a YAML scalar (``4`` is a number, ``en`` text)."""
    import yaml
    found: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE with KEY a name",
                                     param_hint="--var")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        found[key.strip()] = value if isinstance(value, str | int | float | bool) else text
    return found


def load_variants(path: Path, var: tuple[str, ...], variation: tuple[str, ...], *,
                  fail: Callable[[StoryboardError], None], provider: str | None = None,
                  keep_going: bool = False, every_warning: bool = False) -> Variants:
    """Every selected variation compiled (for ``provider``'s limits); errors end the command
    unless ``keep_going``. The words ``init --from`` could not settle are listed by ``check``
    (``every_warning``); any other command says how many in one line."""
    from storyboard.language.variations import compile_variations, strict
    try:
        variants = compile_variations(path, vars=parse_vars(var), select=list(variation) or None,
                                      provider=provider)
        if not keep_going:
            strict(variants)
    except StoryboardError as error:
        fail(error)
        raise AssertionError("unreachable") from error
    found = variants.diagnostics()
    if every_warning:
        for problem in found:
            click.echo(problem.format(), err=True)
        return variants
    unsettled = sum(1 for p in found if p.code == "init-unsettled")
    if unsettled:
        click.echo(f"warning: {unsettled} cast word(s) `init --from` could not settle; "
                   f"`storyboard check {path}` lists each", err=True)
    warned = [p for p in found if p.severity == "warning" and p.code != "init-unsettled"]
    if warned:
        click.echo(warnings_line(warned, path), err=True)
    for problem in found if not keep_going else ():
        if problem.severity == "error":
            click.echo(problem.format(), err=True)
    return variants


UNSOLD = "model-provider"  # shotchecks: the provider asked for does not sell a shot's model


def cast_alone(asked: Variants, path: Path, var: tuple[str, ...], variation: tuple[str, ...],
               patterns: tuple[str, ...]) -> Variants | None:
    """A render of cast assets alone on a provider that does not sell the series' video models
    (``render SERIES 'cast/*' --provider dashscope`` on a Seedance series: docs/cast.md, "Which
    providers make the cast"): the series compiled for its own provider, when the only errors
    of ``asked`` (compiled for the provider asked) are its unsold models and ``patterns`` name
    cast assets only (a cast asset's hash is the same whichever provider compiles it). None
    otherwise."""
    from storyboard.language.variations import compile_variations
    from storyboard.run.state.takes import select_shots
    if not patterns:
        return None
    errors = [p for p in asked.diagnostics() if p.severity == "error"]
    if asked.matrix or not errors or any(p.code != UNSOLD for p in errors):
        return None
    own = compile_variations(path, vars=parse_vars(var), select=list(variation) or None)
    if not own.ok:
        return None
    try:
        chosen = select_shots(own.manifests[0], tuple(p.partition("#")[0] for p in patterns))
    except StoryboardError:
        return None
    return own if all(shot.asset is not None for shot in chosen) else None


def warnings_line(warned: Sequence[Diagnostic], path: Path) -> str:
    """The series' warnings as one line, by kind (``check`` shows each, at its line)."""
    kinds = Counter(p.code or "other" for p in warned)
    said = ", ".join(f"{n} {code}" for code, n in sorted(kinds.items()))
    return (f"warning: {len(warned)} warning(s) in the series ({said}): "
            f"`storyboard check {path}` shows each")


def check(variants: Variants) -> None:
    """``check``'s line when all is well: a plain series' counts, or the matrix's."""
    from storyboard.language.read.series import LEFT_OUT
    if not variants.matrix:
        series = variants.manifests[0]
        left = sum(1 for d in series.warnings if d.code == LEFT_OUT)
        if left and not series.episodes:  # never "ok" for a series of nothing
            click.echo(f"warning: 0 episode(s): the series includes none of the {left} "
                       "episode file(s) in episodes/ (above: what to add to storyboard.yaml)")
            return
        assets = f", {len(series.cast)} cast asset(s)" if series.cast else ""
        click.echo(f"ok: {len(series.episodes)} episode(s), {len(series.episode_shots())} "
                   f"shot(s){assets}")
        return
    shots = variants.shots()
    click.echo(f"ok: {len(variants.variants)} variation(s), "
               f"{sum(len(m.episodes) for m in variants.manifests)} episode(s), {len(shots)} "
               f"shot(s), {len({s.hash for s in shots})} distinct after sharing")


def compile_json(variants: Variants, episode: str | None, shot: str | None,
                 dialect: Dialect, provider: str) -> None:
    """``compile``'s JSON: a plain series' manifest (with ``provider``'s media URL), or every
    variation's under its name."""
    from storyboard.dialects import manifest as manifest_json
    if not variants.matrix:
        first = variants.manifests[0]
        base_url = first.settings_for(provider).get("media_base_url")
        click.echo(manifest_json.to_json(first, episode=episode, shot=shot, dialect=dialect,
                                         media_base_url=base_url), nl=False)
        return
    data = {"storyboard": 1, "series": {"name": variants.name},
            "variations": [{"name": v.name, "vars": _plain(v.vars),
                            **manifest_json.to_dict(
                                v.manifest, episode=episode, shot=shot, dialect=dialect,
                                media_base_url=v.manifest.settings_for(dialect.name).get(
                                    "media_base_url"))}
                           for v in variants.variants if v.manifest is not None]}
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def plan_table(the_plan: MatrixPlan) -> Table:
    from rich.table import Table

    from storyboard.review import progress
    money = the_plan.plan.currency
    table = Table(title=f"{len(the_plan.variations)} variation(s), {the_plan.distinct} distinct "
                        f"shot(s); total {progress.money(the_plan.plan.total_cost, money)} "
                        f"with {the_plan.plan.provider}{progress.waiting_line(the_plan.plan)}")
    for column in ("variation", "shots", "cached", "shared", "alone", "adds", "on its own"):
        table.add_column(column, justify="left" if column == "variation" else "right")
    for v in the_plan.variations:
        table.add_row(v.name, str(v.shots), str(v.cached), str(v.shared), str(v.own),
                      progress.money(v.adds_cost, money), progress.money(v.alone_cost, money))
    table.add_section()
    table.add_row("total", str(len(the_plan.plan.shots)), "", "", "",
                  progress.money(the_plan.plan.total_cost, money), "")
    waiting = [s for s in the_plan.plan.shots if s.status == "waits"]
    if waiting:  # priced, apart: not paid now, paid once their boards are approved
        table.add_row("waiting on boards", str(len(waiting)), "", "", "",
                      progress.money(the_plan.plan.waiting_cost, money), "")
        table.add_row("in all once approved", "", "", "", "",
                      progress.money(the_plan.plan.once_approved, money), "")
    table.caption = ("shared / alone: shots to render that other variations need too / that only "
                     "it needs; adds: what it adds to the variations above it (shared shots are "
                     "paid once, by the first), so the adds sum to the total; on its own: its "
                     "cost rendered alone")
    table.caption_justify = "left"
    return table


def version_lines(the_plan: MatrixPlan) -> list[str]:
    """Each language variation made as a version of its approved base, priced: its lines and
    passes, beside what rendering its shots again would cost (none of it in the table)."""
    found = []
    for route in the_plan.versions:
        q = route.quote
        found.append(
            f"{route.name}: the {q.language} version of {route.base} (its shots approved), no "
            f"video rendered again: {q.lines} line(s) {q.lines_cost:.4f}, {q.passes} lip-sync "
            f"pass(es) {q.passes_cost:.4f}: {q.total:.4f} {q.currency}; rendering its "
            f"{q.shots} shot(s) again: {q.rerender_cost:.4f} {q.currency}")
    return found
