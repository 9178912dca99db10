"""The command line's flags of a run: built from click's parameters in one place (issue 66, item 5).

Every option of ``plan``, ``render``, ``season render``, ``version render`` and ``queue render``
is a field of ``RenderFlags`` or the command's own
(``renderflags.COMMAND_ONLY``), every field an option or the library's own (``renderflags.LIBRARY_ONLY``);
``render_flags`` reads them from click's parameters by name. ``retake`` builds its own flags
(no hidden keyword through ``ctx.invoke``), and the public API takes typed keywords, no
``**options``.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
import pytest

import storyboard
from storyboard.cli.flags import renderflags as cli_flags
from storyboard.cli.flags.renderflags import COMMAND_ONLY, LIBRARY_ONLY, render_flags
from storyboard.cli.flags.runsettings import READERS
from storyboard.cli.flags.selection import CHOSEN, render_command_flags
from storyboard.cli.render import commands as cli_render
from storyboard.cli.render.commands import plan, render
from storyboard.cli.runs import running
from storyboard.cli.season import commands as season
from storyboard.cli.team import queue
from storyboard.cli.versions import commands as version
from storyboard.run.setup import Callbacks, RenderFlags
from tests.fixtures.cli import invoke
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Any
FIELDS = {f.name for f in fields(RenderFlags)}
ONE_SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
"""


def options(command: click.Command) -> set[str]:
    return {p.name for p in command.params if p.name is not None}


COMMANDS = {"plan": plan, "render": render, "season render": season.render,
            "version render": version.render, "queue render": queue.render}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=list(COMMANDS))
def test_every_option_is_a_field_or_the_commands_own(command: click.Command) -> None:
    assert options(command) - FIELDS - COMMAND_ONLY == set()


@pytest.mark.parametrize("command", [season.render, version.render, queue.render],
                         ids=["season", "version", "queue"])
def test_a_mode_takes_no_option_of_another_mode(command: click.Command) -> None:
    """Each mode is a command of its own: none declares a flag that chose a mode, nor does
    ``render``."""
    assert not options(command) & {"whole_season", "queue"}
    assert not options(render) & {"whole_season", "queue", "language", "all_languages",
                                  "episode_budget"}


def test_every_field_is_an_option_of_render_or_the_librarys_own() -> None:
    """Each field is an option of ``render``, set by what it names (WHAT) or by ``--set``, or the
    library's own."""
    assert FIELDS - options(render) == LIBRARY_ONLY | set(CHOSEN) | set(READERS)
    assert set(CHOSEN) | set(READERS) <= FIELDS
    assert LIBRARY_ONLY <= FIELDS  # no stale name
    assert options(plan) | options(render) | options(version.render) >= COMMAND_ONLY
    assert not COMMAND_ONLY & FIELDS


def test_render_flags_are_read_from_clicks_parameters(tmp_path: Path) -> None:
    series = tmp_path / "s"
    series.mkdir()
    args = [str(series), "--provider", "local", "boards", "ep01/a", "--draft", "-o", "out",
            "--yes", "--budget", "2.5", "--set", "concurrency=3", "--set", "offline=true",
            "--quiet", "--set", "webhook_listen=127.0.0.1:0", "--set",
            "webhook_url=https://hooks.example/", "ep01/b*", "--replace-approved",
            "--set", "vars.mood=calm"]
    with render.make_context("render", args) as ctx:
        made, variables = render_command_flags(series, ctx.params)
    assert made == RenderFlags(
        provider="local", draft=True, out=Path("out"), yes=True, budget=2.5,
        concurrency=3, offline=True, shots=("ep01/a", "ep01/b*"), replace_approved=True,
        webhook_listen="127.0.0.1:0", webhook_url="https://hooks.example/", boards=True)
    assert variables == ("mood=calm",)
    with render.make_context("render", [str(series), "boards/ep01"]) as ctx:
        assert render_command_flags(series, ctx.params)[0] == RenderFlags(episode="ep01",
                                                                          boards=True)
    with plan.make_context("plan", [str(series), "--episode", "ep02", "--offline"]) as ctx:
        assert render_flags(ctx.params) == RenderFlags(episode="ep02", offline=True)


def test_retake_builds_its_own_flags(tmp_path: Path, make_media: MakeMedia,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    series = write_series(tmp_path / "s", make_media, ONE_SHOT, head=MIA_HEAD)
    assert invoke("render", series, "--yes", "--quiet").exit_code == 0
    ran: list[tuple[Path, RenderFlags, dict[str, Any]]] = []
    monkeypatch.setattr(running, "run_render",
                        lambda path, flags, **kw: ran.append((path, flags, kw)))
    result = invoke("retake", series, "ep01/a", "-n", "2", "--yes", "--budget", "4",
                    "--provider", "local", "--json")
    assert result.exit_code == 0, result.output
    [(path, flags, shown)] = ran
    assert path == series and shown == {"quiet": False, "as_json": True, "retaking": True}
    assert (flags.provider, flags.yes, flags.budget, flags.replace_approved) == (
        "local", True, 4.0, False)
    assert flags.shots == ("ep01/a#2", "ep01/a#3")
    assert flags.take_changes and not (flags.draft or flags.boards or flags.offline)
    assert "take_changes" not in options(render)  # no hidden keyword on render


@pytest.mark.parametrize("function", [storyboard.render, storyboard.render_variations],
                         ids=["render", "render_variations"])
def test_the_public_api_takes_typed_keywords_for_every_flag(function: Any) -> None:
    parameters = list(inspect.signature(function).parameters.values())[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert all(p.annotation not in ("Any", inspect.Parameter.empty) for p in parameters)
    callbacks = {f.name for f in fields(Callbacks)}
    assert {p.name for p in parameters} == (FIELDS - {"preview"}) | callbacks  # the studio's


def test_a_misspelt_keyword_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="budgte"):
        storyboard.render(tmp_path, budgte=1.0)  # type: ignore[call-arg]


def test_the_flags_module_is_the_one_place() -> None:
    modules = (cli_render, cli_flags, running, season, version, queue)
    source = "".join(Path(str(module.__file__)).read_text() for module in modules)
    assert source.count("RenderFlags(") == 1  # render_flags' own


def test_render_has_no_hidden_retake_option(tmp_path: Path) -> None:
    """``retake`` calls the render path itself with its own flags; ``render`` keeps no hidden
    ``--retake`` for it."""
    assert all(not (isinstance(p, click.Option) and p.hidden) for p in render.params)
    with pytest.raises(click.NoSuchOption):
        render.make_context("render", [str(tmp_path), "--retake"])


def test_every_keyword_that_names_a_flag_reaches_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public API's flags are derived from its keywords by name: each field of
    ``RenderFlags`` given as a keyword is the run's flag, none listed by hand."""
    from storyboard.run import pipeline
    seen: list[RenderFlags] = []
    monkeypatch.setattr(pipeline, "render", lambda variants, flags, calls: seen.append(flags))
    given: dict[str, Any] = {
        "provider": "local", "episode": "ep02", "draft": True, "out": "there", "yes": True,
        "budget": 2.5, "concurrency": 3, "offline": True, "shots": ["ep02/a"],
        "replace_approved": True, "boards": True, "webhook_listen": "127.0.0.1:0",
        "webhook_url": "https://hooks.example/", "take_changes": []}
    assert set(given) == FIELDS - {"preview"}  # every flag a caller may give
    storyboard.render_variations(object(), **given)  # type: ignore[arg-type]
    assert seen == [RenderFlags(**{**given, "out": Path("there"), "shots": ("ep02/a",),
                                   "take_changes": ()})]


def test_plan_for_takes_typed_keywords() -> None:
    from storyboard.run import plan_for
    parameters = list(inspect.signature(plan_for).parameters.values())[2:]
    assert parameters and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert all(p.annotation not in ("Any", inspect.Parameter.empty) for p in parameters)
