"""Usage conflicts refused before any compile (issue 85), generated: sets of flags of the render
commands (``plan``, ``render``, ``season render``, ``version render``, ``queue render``) drawn from
click's own parameters of each command, each with a plausible value, run on a series that does not
compile.

tests/cli/test_cli_conflicts.py holds each pair of the conflict table
(storyboard/cli/flags/conflicts.py) by hand; here hypothesis draws whole sets of flags (any
number, any options the command declares, a new option drawn as soon as it is declared) and holds:

- a set the table refuses (two flags that do not go together, or one without the flag it needs)
  exits 2 naming both flags,
  and never reports the series' own errors: nothing was compiled; ``version render`` with
  neither LANG nor ``--all`` exits 2 naming both;
- a set the table allows gets to the series: its error at ``storyboard.yaml``, exit 1;
- no set ends in a traceback.

The series does not compile (its ``storyboard.yaml`` does not parse, or names a key the language
does not know), so a set the table allows is answered by the series' error in a few milliseconds:
a few dozen sets a second, no render, no provider reached.

What it found on the code before the table (d1229578; the table copied there as the oracle, the
commands read from ``storyboard/cli/render.py``), with the ordinary 60 sets and with 300:

- a conflict priced, not refused: ``plan --draft --compare wan2.7-r2v`` exit 0, a 0.00 USD row;
- one refused for another reason, naming neither flag: ``plan --draft --compare seedance-2.0``:
  "unknown model(s) seedance-2.0" (exit 2);
- with ``--compare`` left out of the draw, a conflict reported after the compile: ``plan --season
  --language es`` (with ``--provider local --draft``): the series' ``storyboard.yaml:3:1`` error,
  exit 1.

And on the code with the table (a170e817), with 1,500 new sets: ``plan --compare wan2.7-r2v``
alone on a series that does not parse exited 0 with a 0.00 USD row and the YAML error as a
model's refusal; fixed with it (a file that does not parse or keep the schema is the series'
error, exit 1, before any model is priced).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.cli.flags.conflicts import RULES, Conflict, Needs, OneOf, Rule
from tests.fixtures.cli import command_at, invoke

DEEP = int(os.environ.get("STORYBOARD_COMPOSE_EXAMPLES", "0"))
RANDOM = os.environ.get("STORYBOARD_COMPOSE_RANDOM", "") == "1"
# The ordinary run: 60 sets, the same on every machine; deep: ten times the count asked (a set
# takes milliseconds; a nightly hunt draws new ones with RANDOM).
RUN = settings(max_examples=max(60, DEEP * 10), deadline=None, derandomize=not RANDOM,
               suppress_health_check=[HealthCheck.too_slow], database=None)


COMMANDS = {path: command_at(path) for path in RULES}  # each render command has its table

# Plausible values of each option that takes one, by its long form; a flag takes none. An option
# neither here nor a flag, a choice or a number range is a new option: the test says so.
VALUES: Mapping[str, tuple[str, ...]] = {
    "--episode": ("ep01", "ep02"), "--shot": ("ep01/a", "ep02/b"),
    "--episodes": ("1-2", "2"), "--episode-budget": ("0", "0.50"), "--budget": ("1", "2.5"),
    "--max-cost": ("1", "0.25"), "--var": ("mood=calm", "x=1"), "--variation": ("calm", "v2"),
    "--language": ("es", "fr"), "--compare": ("wan2.7-r2v", "seedance-2.0"),
    "--webhook-url": ("http://127.0.0.1:9/hook",), "--webhook-listen": ("127.0.0.1:0",),
    "--out": ("OUT",),  # the example's own folder
    "--set": ("concurrency=2", "offline=true", "vars.mood=calm"),
}
# A series that does not compile: its error, at storyboard.yaml, is what a set allowed gets to.
BROKEN = {"parse": "storyboard: 1\nepisodes: [\n",
          "schema": "storyboard: 1\nprovider: local\nshots:\n  - id: a\n    prompt: a pond\n"
                    "    wobble: 3\n"}


def spelled(param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        return param.human_readable_name.strip("[]")  # LANG
    return max(param.opts, key=len)


def values(param: click.Option) -> st.SearchStrategy[list[str]]:
    """The arguments that give ``param``: the flag alone, or the option and a value (one or
    two of them when it may be given more than once)."""
    option = spelled(param)
    if param.is_flag:
        return st.just([option])
    if isinstance(param.type, click.Choice):
        one: st.SearchStrategy[str] = st.sampled_from([str(c) for c in param.type.choices])
    elif isinstance(param.type, click.IntRange):
        low, high = param.type.min or 1, param.type.max or 100
        one = st.integers(low, high).map(str)
    elif option in VALUES:
        one = st.sampled_from(VALUES[option])
    else:
        raise AssertionError(f"{option} is new: give it plausible values in VALUES")
    times = st.integers(1, 2) if param.multiple else st.just(1)
    return times.flatmap(lambda n: st.lists(one, min_size=n, max_size=n)).map(
        lambda said: [part for value in said for part in (option, value)])


@st.composite
def flag_sets(draw: st.DrawFn, name: str) -> dict[str, list[str]]:
    """A set of ``name``'s options (by parameter name), each with its arguments; an optional
    argument (``version render``'s LANG) given or not."""
    options = [p for p in COMMANDS[name].params if isinstance(p, click.Option)]
    chosen = draw(st.lists(st.sampled_from(options), max_size=5, unique_by=lambda p: p.name))
    drawn = {str(p.name): draw(values(p)) for p in chosen}
    for param in COMMANDS[name].params:
        if isinstance(param, click.Argument) and not param.required and draw(st.booleans()):
            drawn[str(param.name)] = [draw(st.sampled_from(VALUES["--language"]))]
    return drawn


def refused(rules: tuple[Rule, ...], drawn: Mapping[str, object]) -> list[tuple[str, str]]:
    """Every pair of parameters the table refuses in ``drawn``: two that do not go together,
    one and the one it needs, or two of which one is needed and neither given."""
    pairs = []
    for rule in rules:
        if isinstance(rule, OneOf):
            pairs += [] if set(rule.flags) & set(drawn) else [rule.flags[:2]]
        elif rule.flag not in drawn:
            continue
        elif isinstance(rule, Conflict):
            pairs += [(rule.flag, other) for other in rule.others if other in drawn]
        elif isinstance(rule, Needs) and rule.needed not in drawn:
            pairs.append((rule.flag, rule.needed))
    return pairs


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each broken series, in its own folder."""
    made = {}
    for kind, source in BROKEN.items():
        root = tmp_path_factory.mktemp("flags") / kind
        root.mkdir()
        (root / "storyboard.yaml").write_text(source, encoding="utf-8")
        made[kind] = root
    return made


def held(series: dict[str, Path], name: str, broken: str, drawn: dict[str, list[str]]) -> None:
    root = series[broken]
    args = [part.replace("OUT", str(root / "out")) for given in drawn.values() for part in given]
    result = invoke(*name.split(), root, *args)  # a traceback is an AssertionError there
    command = COMMANDS[name]
    by_name = {str(p.name): spelled(p) for p in command.params if p.name}
    pairs = refused(RULES[name], drawn)
    said = f"{name} {' '.join(args)}: exit {result.exit_code}\n{result.stderr[-1500:]}"
    if pairs:
        assert "storyboard.yaml" not in result.stderr, f"compiled before refusing: {said}"
        assert result.exit_code == 2, f"a conflict not refused as usage: {said}"
        assert any(by_name[a] in result.stderr and by_name[b] in result.stderr
                   for a, b in pairs), f"the refusal names no pair of {pairs}: {said}"
    else:
        assert result.exit_code == 1 and "storyboard.yaml:" in result.stderr, (
            f"a set the table allows did not get to the series' error: {said}")


@RUN
@given(name=st.sampled_from(sorted(COMMANDS)), broken=st.sampled_from(sorted(BROKEN)),
       data=st.data())
def test_a_set_of_flags_is_refused_at_once_or_gets_to_the_series(
        series: dict[str, Path], name: str, broken: str, data: st.DataObject) -> None:
    held(series, name, broken, data.draw(flag_sets(name), label="flags"))


def test_every_render_command_is_drawn() -> None:
    assert set(COMMANDS) == {"plan", "render", "season render", "version render", "queue render"}


def test_the_values_name_only_options_the_commands_declare() -> None:
    declared = {spelled(p) for command in COMMANDS.values() for p in command.params}
    assert set(VALUES) <= declared, set(VALUES) - declared


def test_every_option_of_both_commands_has_plausible_values() -> None:
    """A new option is drawn as soon as it is declared, or this says what it lacks."""
    for command in COMMANDS.values():
        for param in command.params:
            if isinstance(param, click.Option):
                values(param)
