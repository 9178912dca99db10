"""Plans, shot events and journal rows into what a person reads: rich tables and a live view.

The CLI decides where output goes (``--quiet``, ``--json``); this module only draws, on the
consoles ``console`` makes. When the output is not a terminal (and ``COLUMNS`` is not set) every
table is tab-separated rows, a header row first, each row one line no wider than its own cells
(``PipeConsole``), so ``grep``, ``cut`` and logs in CI read it and a task id is never broken;
``COLUMNS`` draws the table at that width instead; ``NO_COLOR`` turns colours off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.live import Live
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from storyboard.errors import printable, shown
from storyboard.language.request import ASSET_EPISODES, BOARDS
from storyboard.run import Attempt, Plan, ShotEvent, ShotPlan
from storyboard.stitch.series.episodes import EpisodeOutput

STATE_STYLES = {"queued": "dim", "cached": "cyan", "submitted": "yellow", "running": "yellow",
                "downloading": "blue", "done": "green", "failed": "bold red", "skipped": "magenta",
                "blocked": "red", "pending": "yellow", "new": "yellow", "changed": "yellow",
                "waits": "dim", "duplicate": "cyan", "store": "cyan",
                "ledger": "cyan"}


SETTLED = ("cached", "done", "failed", "skipped", "blocked")
TOLD_AT_ONCE = ("failed", "blocked")  # a pipe hears of these at once, whatever the interval
PIPE_EVERY = 5.0  # seconds between two progress lines when the output is not a terminal
PIPE_WIDTH = 1 << 20  # not a terminal: a line is never wrapped (a task id stays whole for grep)


def console(*, stderr: bool = False, quiet: bool = False) -> Console:
    """A console on stdout (or stderr): a terminal's own width; a pipe or a file gets its tables
    as tab-separated rows and its lines whole (``PipeConsole``), or tables drawn ``COLUMNS``
    wide when it is set (rich would take the width of any terminal the process has, stdin's
    included, and wrap a piped table there). No colour under ``NO_COLOR``."""
    own = Console(stderr=stderr)
    piped = not own.is_terminal and not os.environ.get("COLUMNS", "").isdigit()
    made = PipeConsole if piped else Console
    return made(stderr=stderr, quiet=quiet, width=PIPE_WIDTH if piped else None,
                no_color=os.environ.get("NO_COLOR", "") != "" or None)


class PipeConsole(Console):
    """A console for a pipe or a file: every table it prints, wherever it sits (a group, the
    live view's last frame), comes out as tab-separated rows (``tsv``)."""

    def render(self, renderable: RenderableType,
               options: ConsoleOptions | None = None) -> Iterable[Segment]:
        return super().render(tsv(self, renderable) if isinstance(renderable, Table)
                              else renderable, options)


def tsv(console: Console, table: Table) -> Rows:
    """``table`` as lines: its title, a header row, a row per row (cells apart by one tab, a
    tab or line break inside a cell a space), its caption; no padding, no borders, no wrap."""
    def cell(value: object) -> str:
        text = (value.plain if isinstance(value, Text) else
                console.render_str(value).plain if isinstance(value, str) else str(value))
        return " ".join(text.replace("\t", " ").split())

    columns = [list(c.cells) for c in table.columns]
    rows = [[cell(c.header) for c in table.columns]]
    rows += [[cell(c[i]) for c in columns] for i in range(table.row_count)]
    lines = [cell(table.title)] if table.title else []
    lines += ["\t".join(row).rstrip("\t") for row in rows]
    lines += [cell(table.caption)] if table.caption else []
    return Rows(tuple(lines))


@dataclass(frozen=True)
class Rows:
    """Lines written as they are: no tab expanded, nothing wrapped or padded."""

    lines: tuple[str, ...]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        for text in self.lines:
            yield Segment(text)
            yield Segment.line()


def money(amount: float, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def spent_line(costs: Sequence[tuple[float | None, str | None]]) -> str:
    """What the journal's tasks cost in all: ``spent in all: 1.30 USD on 3 paid task(s)``."""
    from storyboard.run.state.takes import spent
    amounts = " + ".join(money(v, k) for k, v in sorted(spent(list(costs)).items()))
    paid = len([cost for cost, _ in costs if cost])
    return f"spent in all: {amounts or 'nothing'} on {paid} paid task(s) (this clone's journal)"


def line(text: str) -> Text:
    """A header or summary line: as wide as the console, not the table (wrapped only past it)."""
    return Text(text, overflow="fold")


def plan_header(plan: Plan) -> list[str]:
    """``plan: dashscope at HOST``, then ``prices: MODEL: USD ...``, a line per price table:
    which model and host each price is for (a table no shot uses is left out)."""
    where = f"plan: {plan.provider}" + (f" at {plan.host}" if plan.host else "")
    tables = plan.price_model.split("; ") if plan.price_model else []
    if tables and plan.priced_models:
        tables[0] = f"{', '.join(plan.priced_models)}: {tables[0]}"
    elif len(tables) > 1:  # every shot is priced by its own model's table
        tables = tables[1:]
    return [where, *(("prices: " if i == 0 else "        ") + t for i, t in enumerate(tables))]


def plan_summary(plan: Plan) -> str:
    """The counters that are not zero, then the total: ``4 new, 1 waits; total 34 billed s...``."""
    counts = ", ".join(f"{n} {state}" for state, n in sorted(plan.counts().items()) if n)
    cast = (f" (the cast: {money(plan.cast_cost, plan.currency)})"
            if any(s.episode in ASSET_EPISODES and s.episode != BOARDS and s.renders
                   and not s.made_by for s in plan.shots) else "")
    if any(s.episode == BOARDS for s in plan.shots):  # the boards' total and the videos' apart
        cast += (f"; the boards: about {money(plan.boards_cost, plan.currency)}, the videos: "
                 f"about {money(plan.videos_cost, plan.currency)}")
    elsewhere = "".join(f"; the cast made by {who}: about {money(cost, currency)}, not in "
                        "this total" for (who, currency), cost in sorted(plan.elsewhere.items()))
    return (f"{counts or 'no shots'}; total {plan.total_billed_seconds:g} billed s, "
            f"about {money(plan.total_cost, plan.currency)}{cast}{elsewhere}"
            f"{waiting_line(plan)}")


def waiting_line(plan: Plan) -> str:
    """``; waiting on boards: about X ...: about Y in all`` (what the held videos cost once
    their boards are approved, not paid now, and the plan's total with them), or nothing when
    no video waits for its board."""
    if not any(s.status == "waits" for s in plan.shots):
        return ""
    return (f"; waiting on boards: about {money(plan.waiting_cost, plan.currency)} more once "
            f"they are approved (not paid now): about {money(plan.once_approved, plan.currency)}"
            " in all")


def waited(shot: ShotPlan) -> str:
    """What a shot waits on: its first frame's shot, or every asset it uses not made yet."""
    if shot.waits_on in shot.waits_for:
        return ", ".join(shot.waits_for)
    return str(shot.waits_on)


def plan_table(plan: Plan) -> Group:
    """The plan as a person reads it: the header lines, the table of shots, the summary. The
    header and the summary are whole lines, never wrapped at the table's width."""
    table = Table(expand=False)
    for column in ("shot", "status", "why", "billed s", "cost"):
        table.add_column(column, justify="right" if column in ("billed s", "cost") else "left")
    for shot in plan.shots:
        why = "; ".join(str(c) for c in shot.changes)
        if shot.waits_on:
            why = f"waits on {waited(shot)}" + (f"; {why}" if why else "")
        if shot.same_as:
            why = f"same as {shot.same_as}"
        if shot.status == "store":
            why = "in store: rendered by someone else, free"
        why = shot.note or why
        table.add_row(shot.key.split("/", 1)[-1], Text(shot.status, STATE_STYLES.get(
            shot.status, "")), Text(why), f"{shot.billed_seconds:g}", _cost_cell(shot, plan))
    return Group(*(line(text) for text in plan_header(plan)), table, line(plan_summary(plan)))


def _cost_cell(shot: ShotPlan, plan: Plan) -> str:
    """A row's cost; a video waiting for its board: 0 now, and what it costs once approved."""
    now = money(shot.cost, shot.currency or plan.currency)
    if shot.status != "waits" or not shot.waiting_cost:
        return now
    return f"{now}\n(then {money(shot.waiting_cost, shot.currency or plan.currency)})"


def shot_label(series: str, episode: str, shot: str) -> str:
    """``episode/shot``, led by the variation when the series is one (``ad/latte-en``)."""
    _, _, variation = series.partition("/")
    return f"{variation}/{episode}/{shot}" if variation else f"{episode}/{shot}"


def safe_id(task_id: str | None) -> str:
    """A task id as a terminal may show it: as it is when printable, else escaped (an id comes
    from a provider's answer or a person's flag, and could carry terminal escapes)."""
    if task_id is None:
        return ""
    return task_id if printable(task_id) else shown(task_id)


def status_table(rows: Sequence[Attempt], older: Collection[int] = (),
                 marks: Mapping[str, str] | None = None) -> Table:
    """The journal's rows; those in ``older`` (attempt ids) rendered an older version;
    ``marks``: a take's "picked" / "approved" by its key, as ``takes`` shows them."""
    from storyboard.run.state.takes import rendered_by
    from storyboard.run.trip.cancel import failure_of, possibly_billed
    table = Table(title="journal", title_justify="left")
    for column in ("shot", "by", "state", "task id", "status", "cost", "marks", "note"):
        table.add_column(column, overflow="fold")  # long notes wrap, never cut mid-word
    for row in rows:
        cost = "" if row.cost is None else money(row.cost, row.currency or "")
        note = row.error_message or row.note or ""
        failure = failure_of(row)
        note = f"{failure.words()}. {note}" if failure is not None else note
        mark = (marks or {}).get(row.key, "") if row.id not in older else ""
        table.add_row(shot_label(row.series, row.episode, row.shot),
                      rendered_by(row.provider, row.cache_key),
                      Text(row.state + (" (possibly billed)" if possibly_billed(row) else "")
                           + (" (older version)" if row.id in older else ""),
                           "dim" if row.id in older else STATE_STYLES.get(row.state, "")),
                      Text(safe_id(row.task_id)),
                      row.last_status or "", cost, mark, Text(note))
    return table


def attempt_dict(row: Attempt) -> dict[str, Any]:
    """A journal row as JSON, with its failure in our words (None when it did not fail)."""
    from storyboard.run.trip.cancel import failure_of, possibly_billed
    failure = failure_of(row)
    return {**vars(row), "failure": failure.to_dict() if failure is not None else None,
            "possibly_billed": possibly_billed(row)}


@dataclass
class _Row:
    state: str
    started: float
    message: str = ""
    ended: float | None = None  # the clock stops when the shot is settled
    progress: float | None = None  # the task's fraction done, while it runs (ComfyUI's /ws)

    def shown_state(self) -> str:
        """``running 45%`` when the provider says how far the task is, else the state."""
        if self.state == "running" and self.progress is not None:
            return f"{self.state} {self.progress:.0%}"
        return self.state


class LiveProgress:
    """A live table of every shot's state, elapsed time and the money spent so far.

    When the output is not a terminal (``render > log 2>&1``) the table is drawn once, at the end;
    meanwhile a line tells of a finished shot (the count of settled shots so far) at most every
    ``every`` seconds, and at once of a shot that failed; a line tells at once of each episode
    as its stitching begins and as it ends, and of how far its ffmpeg runs have got (their own
    ``-progress``) at most every ``every`` seconds, so a long run is never silent."""

    def __init__(self, console: Console, currency: str, *, every: float = PIPE_EVERY) -> None:
        self.console = console
        self.every = every
        self.told: float | None = None  # when the last progress line was written
        self.currency = currency
        self.rows: dict[str, _Row] = {}
        self.spent = 0.0
        self.episodes: list[EpisodeOutput] = []
        self.told_episodes = EpisodeLines(console, every=every)  # a pipe's stitching lines
        self.lock = threading.Lock()  # a stitch's ffmpeg runs report from worker threads
        self.live = Live(console=console, refresh_per_second=4, transient=False,
                         auto_refresh=console.is_terminal)
        self.started = False

    def __enter__(self) -> LiveProgress:
        return self  # the view starts with the first event: a refused run shows only its error

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.live.update(self.render())
            self.live.stop()
            if not self.console.is_terminal:
                self.console.line()

    def _show(self) -> None:
        if not self.started:
            self.started = True
            self.live.update(self.render())
            self.live.start()
        elif self.console.is_terminal:
            self.live.update(self.render())

    def event(self, event: ShotEvent) -> None:
        key = shot_label(event.series, event.episode, event.shot)
        row = self.rows.setdefault(key, _Row(event.state, time.monotonic() - event.elapsed))
        row.state, row.message, row.progress = event.state, event.message, event.progress
        if event.state in SETTLED:
            row.ended = row.started + event.elapsed
        self.spent = max(self.spent, event.spent_so_far)
        self._show()
        if not self.console.is_terminal and event.state in SETTLED:
            self._tell(key, row)

    def _tell(self, key: str, row: _Row) -> None:
        """A progress line for a pipe: at once for a failure, else at most every ``every`` s."""
        now = time.monotonic()
        if row.state not in TOLD_AT_ONCE and self.told is not None and now - self.told < self.every:
            return
        self.told = now
        self.console.print(Text(self.count_line(key, row)), soft_wrap=True)

    def count_line(self, key: str, row: _Row) -> str:
        """``progress: 12 of 40 shot(s) settled (10 done, 2 cached); spent 0.00 USD; last: ep01/s03
        done``, the failed shot's message after it."""
        counts: dict[str, int] = {}
        for each in self.rows.values():
            if each.state in SETTLED:
                counts[each.state] = counts.get(each.state, 0) + 1
        states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        last = f"{key} {row.state}" + (f" - {row.message}" if row.state in TOLD_AT_ONCE
                                        and row.message else "")
        return (f"progress: {sum(counts.values())} of {len(self.rows)} shot(s) settled ({states});"
                f" spent {money(self.spent, self.currency).rstrip()}; last: {last}")

    def episode(self, output: EpisodeOutput) -> None:
        """A new episode line, how far its stitching has got, or how it ended."""
        with self.lock:
            self.episodes = [e for e in self.episodes if e.id != output.id] + [output]
            self._show()
            if not self.console.is_terminal:
                self.told_episodes.tell(output)

    def render(self) -> Group:
        table = Table(title_justify="left", title=f"spent so far: "
                      f"{money(self.spent, self.currency)}")
        for column in ("shot", "state", "elapsed", "message"):
            table.add_column(column, overflow="fold")  # wrapped, never cut mid-word
        now = time.monotonic()
        for key, row in self.rows.items():
            elapsed = (row.ended if row.ended is not None else now) - row.started
            table.add_row(key, Text(row.shown_state(), STATE_STYLES.get(row.state, "")),
                          f"{elapsed:5.1f}s", Text(row.message))  # Text: no markup
        parts: list[Any] = [table]
        parts += [Text(episode_line(ep, now)) for ep in self.episodes]
        return Group(*parts)


class EpisodeLines:
    """Episodes told as lines, as they are stitched: ``stitching ep02 (2 of 8)`` and how it
    ended (``stitched ep02 (2 of 8) in 41 s``) at once, how far its ffmpeg runs have got at
    most every ``every`` s (the first report at once). A pipe's view of a render, and the
    only view of a version's stitching."""

    def __init__(self, console: Console, *, every: float = PIPE_EVERY) -> None:
        self.console = console
        self.every = every
        self.told: float | None = None  # when the last progress line was written
        self.began: dict[str, float] = {}  # when each episode's stitching began
        self.lock = threading.Lock()  # a stitch's ffmpeg runs report from worker threads

    def tell(self, output: EpisodeOutput) -> None:
        with self.lock:
            said = self.line(output, time.monotonic())
        if said is not None:
            self.console.print(Text(said), soft_wrap=True)

    def line(self, output: EpisodeOutput, now: float) -> str | None:
        """The line for ``output``, or None when a progress line was written too lately."""
        place = f" ({output.number} of {output.count})" if output.count else ""
        said = f"{output.state} {output.id}{place}"
        if output.state == "stitching" and output.progress is None:
            self.began[output.id] = now
        elif output.state == "stitching" and output.progress is not None:
            if self.told is not None and now - self.told < self.every:
                return None
            self.told = now
            said += f": {output.progress.words()}"
        elif output.id in self.began:
            said += f" in {now - self.began.pop(output.id):.0f} s"
        return said + (f" - {output.message}" if output.message else "")


def episode_line(ep: EpisodeOutput, now: float | None = None) -> str:
    """``episode ep01: stitched out/x/ep01.mp4 (16.50 s, filtered)``, no empty fields."""
    facts = [f"{ep.duration:.2f} s" if ep.duration else "", ep.path_taken]
    if ep.state == "stitching" and now is not None and ep.started:
        facts = [f"{ep.number} of {ep.count}" if ep.count else "",
                 f"{now - ep.started:.0f} s so far",
                 ep.progress.words() if ep.progress is not None else ""]
    shown = ", ".join(f for f in facts if f)
    return (f"episode {ep.id}: {ep.state} {ep.path}" + (f" ({shown})" if shown else "")
            + (f" - {ep.message}" if ep.message else ""))
