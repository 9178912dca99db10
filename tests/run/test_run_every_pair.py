"""Features that compose, rendered (issue 85's second stage): generated series rendered on the
DashScope emulator and delivered, held to what the maker was told.

The compile stage (tests/language/test_compile_every_pair.py) holds every pair on every target
without rendering. This stage draws fewer examples (rendering costs seconds each) from the same
generator (tests/fixtures/composed.py), writes each with a vertical ``delivery:`` block (an end
card or not) on DashScope, and renders the season on its emulator, as a maker would: ``plan
--season``, ``season render --yes``, then the boards approved (``approve boards/EP --provider
dashscope``) and ``season render --yes`` again. Each example is held to:

- what ``plan --season`` said in all (the videos waiting on boards included) is what the two
  renders spent;
- each episode's hook (its ``hook:``, else its last spoken line) is the manifest's ``hook``, and
  with ``end_card: true`` the episode file holds its card (the file is a card longer);
- an approval is never voided without a message that names it: once approved, no video waits,
  or its note says where the board was approved;
- a table sent to a pipe is plain rows (tab-separated, a row a line), never a drawn box;
- stitching says each episode as it begins and ends;
- deep runs only (a dub takes tens of seconds), where every other season carries a Spanish
  version (its shots approved, ``languages/es/EP.yaml`` a episode, ``version render SERIES es``, the
  season delivered again): the manifest has the version as a row of its own with its own cost,
  the original episodes' costs are what they were before the version, every cost rounded as the
  others (4 places).

What it found, run with ``STORYBOARD_COMPOSE_EXAMPLES=50`` (5 seasons) in a throwaway worktree
of each commit, without shrinking (a render a step); the fields not named are the simplest (a
picture from a file, one episode, nothing else):

- hooks never reach the delivery (d1229578): *admitted* failed: ``end_card=True`` refused,
  "unknown key 'end_card'";
- a table in a pipe (d1229578): *plain rows* failed: ``plan`` in a pipe drew its box (``┏━┳``);
- silent stitching (d1229578): *stitching* failed: "episode ep01: stitched ..." once done, no
  word as it began;
- a season's price leaves out what waits (d1229578): *plan's total* failed: ``boards``, 2
  episodes, a look from words worn in ep01, a clip voice, a video character: 0.12 in all, the
  renders spent 1.32;
- an approval across providers (d1229578): *approval* failed: ``approve --provider`` did not
  exist (exit 2); without it, approving dashscope's own boards held;
- a request another folder rendered (c3cde595, found by this stage): *plan's total* failed:
  ``picture=words``: 0.23 in all, render spent 0.20 (the sheet came from the ledger: an
  earlier example had made it); fixed with it;
- a version's cost is its own row (d1229578, 60 examples, half the seasons dubbed): *version's
  row* failed: the simplest dubbed season (a designed voice, its line, one episode): no
  ``language`` column and no row of the version; ep01's row cost 0.223, where it cost 0.2
  before the dub (the version's 0.023 folded into it).

The manifest's ``hook`` held on d1229578 for an episode's own ``hook:``; ``season.yaml``'s hooks,
which only ``breakdown`` writes into the episode file, are drawn by
``tests/breakdown/test_breakdown_every_hook.py``; flag conflicts (no render needed) by
``tests/cli/test_cli_every_flag_set.py``; the emulator's caption under burnt-in subtitles (a
picture's pixels) by ``tests/emulator/test_emulator_captions.py``.

Ordinary runs draw 2 examples (the same ones on every machine); ``STORYBOARD_COMPOSE_EXAMPLES=N``
draws N // 10 of them (at least 2), ``STORYBOARD_COMPOSE_RANDOM=1`` new ones each run.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from storyboard.emulator import EmulatorServer
from tests.fixtures.cli import invoke
from tests.fixtures.composed import Spec, Target, bench, season_text, specs, text

DEEP = int(os.environ.get("STORYBOARD_COMPOSE_EXAMPLES", "0"))
RANDOM = os.environ.get("STORYBOARD_COMPOSE_RANDOM", "") == "1"
# One seed for every test here, so that each draws the same examples (one render serves all):
# a fixed one, or with RANDOM a new one each run (hypothesis prints it with a failure).
SEED = random.SystemRandom().randrange(2**32) if RANDOM else 85
RUN = settings(max_examples=max(2, DEEP // 10), deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture],
               database=None)
TARGET = Target("dashscope", "wan2.7-r2v", duration=2)
CARD = 1.0  # the end card's seconds
KEY = "sk-composed-render"


@pytest.fixture(scope="module")
def emulated() -> Iterator[EmulatorServer]:
    """One emulator for the module, the key and its URL in the environment."""
    server = EmulatorServer(latency=0.05, plain_results=True, retry_after=0.1).start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DASHSCOPE_API_KEY", KEY)
        patch.setenv("CI", "1")
        patch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def benches(emulated: EmulatorServer, tmp_path_factory: pytest.TempPathFactory,
            make_media: Callable[..., Path]) -> Callable[[], Path]:
    """A new series folder for each example (its own lock, cache and journal)."""
    return lambda: bench(tmp_path_factory.mktemp("rendered") / "series", make_media)


def series_text(spec: Spec, end_card: bool) -> str:
    """``spec`` on DashScope (its emulator: files uploaded, not hosted), delivered vertical."""
    lines = [line for line in text(spec, TARGET).splitlines()
             if not line.startswith("provider:")]
    card = ", end_card: true" if end_card else ""  # without it: the default (no card)
    lines[2:2] = ["provider: {name: dashscope, poll: [0.1]}",
                  f"delivery: {{preset: vertical{card}, title_card: false, cover: false, "
                  f"card_seconds: {CARD:g}}}"]
    return "\n".join(lines) + "\n"


def hook(spec: Spec, number: int) -> str:
    """The hook episode ``number`` ends on: its ``hook:``, else its last spoken line."""
    if spec.hooks[number - 1]:
        return spec.hooks[number - 1]
    return f"Line {number} of the pond." if spec.lines and spec.voice else ""


def run(*args: str | Path) -> tuple[int, str, str]:
    done = invoke(*args)
    return done.exit_code, done.stdout, done.stderr


def spent(root: Path) -> tuple[float, str]:
    """``season render --yes`` into a pipe: what it spent, and what it said on stderr."""
    code, out, err = run("season", "render", root, "--yes")
    assert code == 0, f"season render: {err[-2000:]}"
    said = re.findall(r"spent (\d+\.\d+) USD on \d+ new task", out + err)
    assert len(said) == 1, f"season render says no spent: {out}{err}"
    return float(said[0]), err


def approve_boards(root: Path, spec: Spec) -> None:
    for number in range(1, spec.episodes + 1):
        code, out, err = run("approve", root, f"boards/ep{number:02d}", "--provider",
                             "dashscope")
        assert code == 0, f"approve boards/ep{number:02d}: {out}{err}"


def plain_rows(out: str, first: str) -> list[str]:
    """The lines of a table sent to a pipe, from its header (its first cell ``first``) on; each
    a line of tab-separated cells, never a box nor a cell wrapped onto the next line."""
    assert not re.search("[\u2500-\u257f]", out), f"a drawn table in a pipe:\n{out}"
    lines = out.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(f"{first}\t"))
    width = lines[start].count("\t")
    rows = [line for line in lines[start:] if "\t" in line]
    assert all(row.count("\t") == width for row in rows), f"a row split or wrapped:\n{out}"
    return rows


@dataclass
class Rendered:
    """What a maker saw of one generated season: ``plan --season``, ``plan`` in a pipe, the
    renders (before the boards' approval and after it) and the delivery."""

    spec: Spec
    end_card: bool
    refused: str = ""  # what plan --season refused (nothing else was run)
    in_all: float = 0.0  # plan --season's total, the videos waiting on boards included
    totals: dict[str, Any] = field(default_factory=dict)
    table: str = ""  # ``plan``'s table, sent to a pipe
    paid: float = 0.0  # what the renders spent, together
    said: str = ""  # what the renders wrote on stderr
    failed: str = ""  # a render or an approval that exited non-zero: what it said
    waiting: list[str] = field(default_factory=list)  # rows that wait once the boards are approved
    hooks: dict[str, tuple[str, float]] = field(default_factory=dict)  # the manifest's rows
    before: dict[str, float] = field(default_factory=dict)  # each episode's cost, no version yet
    rows: list[dict[str, Any]] = field(default_factory=list)  # the manifest's, with a version


RENDERED: dict[tuple[Spec, bool], Rendered] = {}  # each test of one example reads one render


def rendered(benches: Callable[[], Path], spec: Spec, end_card: bool) -> Rendered:
    """``spec`` rendered once (every test here draws the same examples, each its own invariant)."""
    spanish = bool(DEEP) and spec == dubbed(spec)
    spec = replace(spec, languages=spec.languages if spanish else (), matrix=False, ids=(),
                   look_ids=(), takes=1, backwards=False)
    if (spec, end_card) not in RENDERED:
        RENDERED[spec, end_card] = render_season(benches(), spec, end_card)
    return RENDERED[spec, end_card]


def render_season(root: Path, spec: Spec, end_card: bool) -> Rendered:
    (root / "storyboard.yaml").write_text(series_text(spec, end_card), encoding="utf-8")
    if spec.season is not None:  # its hooks are the breakdown's: the delivery says the episode's
        (root / "season.yaml").write_text(season_text(spec), encoding="utf-8")
    done = Rendered(spec, end_card)
    code, out, err = run("plan", root, "--season", "--json")
    planned = json.loads(out) if out.strip() else {}
    if not planned.get("admitted"):
        done.refused = f"exit {code}: {err[-1500:]}"
        return done
    done.totals = planned["totals"]
    done.in_all = float(done.totals.get("price_once_approved", done.totals["price"]))
    done.table = run("plan", root)[1]
    try:
        done.paid, done.said = spent(root)
        if spec.boards:
            approve_boards(root, spec)
            done.waiting = [f"{row['key']}: {row['note']}"
                            for row in json.loads(run("plan", root, "--json")[1])["shots"]
                            if row["status"] == "waits"]
            more, also = spent(root)
            done.paid, done.said = done.paid + more, done.said + also
    except AssertionError as error:
        done.failed = str(error)
        return done
    manifest = json.loads((root / "out" / "season" / "manifest.json").read_text("utf-8"))
    done.hooks = {row["id"]: (row["hook"], row["seconds"]) for row in manifest["episodes"]}
    if spec.languages:
        done.before = {row["id"]: row["cost"] for row in manifest["episodes"]}
        dub(root, done)
    return done


def dub(root: Path, done: Rendered) -> None:
    """The Spanish version of every episode, as a maker makes it: the shots approved, a
    version file a episode, ``version render SERIES es``, then the season delivered again."""
    for number in range(1, done.spec.episodes + 1):
        code, out, err = run("approve", root, f"ep{number:02d}/s{number}", "--force")
        assert code == 0, f"approve ep{number:02d}/s{number}: {out}{err}"
        folder = root / "languages" / "es"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"ep{number:02d}.yaml").write_text(
            f"language: es\nsource: en\nepisode: ep{number:02d}\nlines:\n"
            f"  - {{shot: s{number}, n: 1, speaker: duckling, at: 0-{TARGET.duration}s, "
            f"route: voice_reference, source: \"Line {number} of the pond.\", "
            f"text: \"Linea {number} del estanque.\"}}\n", encoding="utf-8")
    for args in (("version", "render", root, "es"), ("season", "render", root)):
        code, out, err = run(*args, "--yes")
        if code != 0:
            done.failed = f"{args[0]} render: exit {code}: {out[-1000:]}{err[-1500:]}"
            return
    manifest = json.loads((root / "out" / "season" / "manifest.json").read_text("utf-8"))
    done.rows = manifest["episodes"]


def delivered(done: Rendered) -> bool:
    """Whether the season was admitted and rendered (each is its own test's invariant)."""
    assert not done.failed, done.failed
    return not done.refused


def examples(test: Callable[..., None]) -> Callable[..., None]:
    """The examples every test here draws: the same, from one seed."""
    return seed(SEED)(RUN(given(spec=SPECS, end_card=st.booleans())(test)))


def dubbed(spec: Spec) -> Spec:
    """``spec`` with lines, a designed voice (a version's lines are spoken in it, never in a
    recorded clip) and a Spanish version."""
    return replace(spec, lines=True, voice="design", languages=("en", "es"))


# Deep runs only (a dub takes tens of seconds): every other season carries a Spanish version.
SPECS = specs().flatmap(lambda s: st.sampled_from((s, dubbed(s)))) if DEEP else specs()


@examples
def test_a_generated_season_is_admitted(benches: Callable[[], Path], spec: Spec,
                                        end_card: bool) -> None:
    done = rendered(benches, spec, end_card)
    assert not done.refused, f"plan --season refuses a season the generator wrote: {done.refused}"


@examples
def test_plans_total_waiting_included_is_what_the_renders_spend(
        benches: Callable[[], Path], spec: Spec, end_card: bool) -> None:
    done = rendered(benches, spec, end_card)
    if delivered(done):
        assert done.paid == pytest.approx(done.in_all, abs=0.011), (
            f"plan --season said {done.in_all} in all ({done.totals}); the renders spent "
            f"{done.paid}")


@examples
def test_every_hook_reaches_the_manifest_and_the_end_card(
        benches: Callable[[], Path], spec: Spec, end_card: bool) -> None:
    done = rendered(benches, spec, end_card)
    if not delivered(done):
        return
    for number in range(1, done.spec.episodes + 1):
        episode, words = f"ep{number:02d}", hook(done.spec, number)
        said, seconds = done.hooks[episode]
        assert said == words, f"{episode}: the manifest's hook is {said!r}, not {words!r}"
        card = CARD if end_card and words else 0.0
        assert seconds == pytest.approx(TARGET.duration + card, abs=0.15), (
            f"{episode}: {seconds} s with hook {words!r}, end card {end_card}")


@examples
def test_an_approval_is_never_voided_without_a_message_naming_it(
        benches: Callable[[], Path], spec: Spec, end_card: bool) -> None:
    done = rendered(benches, spec, end_card)
    if delivered(done):
        for row in done.waiting:  # the boards approved on dashscope: nothing waits silently
            assert "approved on" in row, f"waits once its board is approved: {row}"


@examples
def test_a_table_sent_to_a_pipe_is_plain_rows(benches: Callable[[], Path], spec: Spec,
                                              end_card: bool) -> None:
    done = rendered(benches, spec, end_card)
    if delivered(done):
        keys = [row.split("\t", 1)[0] for row in plain_rows(done.table, "shot")[1:]]
        assert len(keys) == len(set(keys)), f"a shot on two rows:\n{done.table}"


@examples
def test_stitching_says_each_episode_as_it_begins_and_ends(
        benches: Callable[[], Path], spec: Spec, end_card: bool) -> None:
    done = rendered(benches, spec, end_card)
    if not delivered(done):
        return
    for number in range(1, done.spec.episodes + 1):
        episode = f"ep{number:02d}"
        assert re.search(rf"stitching {episode}\b", done.said) and \
            re.search(rf"stitched {episode}\b", done.said), (
                f"{episode}: no word of its stitch:\n{done.said}")


@examples
def test_a_versions_cost_is_its_own_row(benches: Callable[[], Path], spec: Spec,
                                        end_card: bool) -> None:
    """Deep runs only (a dub takes tens of seconds): a season with a Spanish version."""
    done = rendered(benches, spec, end_card)
    if not delivered(done) or not done.before:
        return
    event("a season with a Spanish version")
    rows = {(row["id"], row.get("language", "")): row["cost"] for row in done.rows}
    for episode, cost in done.before.items():
        assert rows.get((episode, "en")) == cost, (
            f"{episode}: the original's cost is {rows.get((episode, 'en'))}, was {cost}: {rows}")
        assert (rows.get((episode, "es")) or 0) > 0, f"{episode}: no row of its version: {rows}"
    assert all(cost == round(cost, 4) for cost in rows.values()), f"a cost unrounded: {rows}"
