"""A series, its plan, its lock and its journal into the season's figures, per episode: shots,
minutes, boards approved of total, videos done, spent, to go, and shots waiting on their boards.

What ``storyboard status --season`` shows (and ``--json``). Nothing new is measured: the plan
(free: the cache, the lock, the journal, the prices) says which videos are made (``cached``,
``store``, ``ledger``: here, in the shared store, by another machine), what is still to pay
(``new``, ``changed``: its cost; ``waits``: what it costs once its board is approved) and which
shots wait on a board; the lock's take states say which boards are approved; the journal says
what was spent (``review/season.py`` counts it the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import asdict, dataclass

from rich.table import Table

from storyboard.errors import StoryboardError
from storyboard.language.picks import state_key
from storyboard.language.request import BOARDS, CompiledEpisode, CompiledShot, Manifest
from storyboard.language.variations import Variants
from storyboard.review.season import episode_cost
from storyboard.review.seasonversions import is_version
from storyboard.run.plans import Plan, ShotPlan
from storyboard.run.state.lock.lockfile import TakeState
from storyboard.run.state.tasks.attempts import Attempt
from storyboard.targets.kinds import is_paid

# A video made: here, in the shared store, or by another machine of the team (its ledger holds
# the finished, paid task: ``render`` downloads it again, free).
DONE = ("cached", "store", "ledger")
# What the plan finds of a shot that this machine's journal does not show: made or being made
# elsewhere (``status`` says so, rather than "not rendered yet").
ELSEWHERE = {"store": "in the shared store, made on another machine: `render` takes it, free",
             "ledger": "made on another machine (the team's ledger): `render` takes it, free",
             "claimed": "being rendered now by another run: `render` waits for it",
             "in flight": "a paid task in flight: `render` resumes it, never pays again"}


@dataclass(frozen=True)
class EpisodeFigures:
    """One episode's line of the season's status."""

    episode: int
    id: str
    title: str
    shots: int
    minutes: float
    boards_approved: int
    boards: int
    videos_done: int
    spent: float
    to_go: float
    waiting_on_boards: int
    currency: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def counted_provider(manifest: Manifest, provider: str | None, journal: Sequence[Attempt]
                     ) -> str | None:
    """The provider whose renders the season's figures count: ``--provider``, else the series'
    ``provider.name``, else the provider of the journal's last finished render of the series'
    own shots (a paid one first: a render's ``--provider``), else None (``local``)."""
    if provider or manifest.provider.get("name"):
        return provider
    done = sorted((r for r in journal if r.state == "done" and not is_version(r)),
                  key=lambda r: (is_paid(r.provider), r.updated_at, r.id))
    return done[-1].provider if done else None


def season_rows(variants: Variants, provider: str | None) -> list[EpisodeFigures]:
    """Each episode's figures, from the series' plan (with ``provider``), lock and journal."""
    from storyboard.run import status as journal
    from storyboard.run.pipeline import plan
    from storyboard.run.setup import RenderFlags
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    from storyboard.run.state.takes import with_retakes
    if variants.matrix:
        raise StoryboardError("status --season shows a plain series; a matrix's variations "
                              "each have their own episodes (status shows their shots)")
    the_plan = plan(variants, RenderFlags(provider=provider))[0].plan
    lock = read_lock(lock_path(variants.root))
    manifest = with_retakes(variants.manifests[0], lock)
    boards = {asset.shot_id: asset for asset in manifest.cast}
    rows = journal(manifest.root)
    return [figures(number, episode, the_plan, boards, lock.takes, rows)
            for number, episode in enumerate(manifest.episodes, 1)]


def made_elsewhere(variants: Variants, provider: str | None, shown: Set[str],
                   pending: bool = False) -> tuple[list[ShotPlan], list[str]]:
    """The shots of the series' plan (with ``provider``) made or being made elsewhere (the
    shared store, the team's ledger, another run) whose key ``shown`` (the journal's rows
    ``status`` shows at their current version) lacks; with ``pending``, those being made. And
    why the store or the ledger was not read, where one was not (its shots then go unseen)."""
    from storyboard.run.pipeline import plan
    from storyboard.run.setup import RenderFlags
    wanted = ("claimed", "in flight") if pending else tuple(ELSEWHERE)
    plans = [each.plan for each in plan(variants, RenderFlags(provider=provider))]
    found = {s.key: s for each in plans for s in each.shots
             if s.status in wanted and s.key not in shown}
    notes = list(dict.fromkeys(each.store_note for each in plans if each.store_note))
    return sorted(found.values(), key=lambda s: s.key), notes


def looked_elsewhere(variants: Variants, compiled_for: Callable[[str | None], Variants],
                    provider: str | None, journal: Sequence[Attempt], shown: Set[str],
                    pending: bool = False) -> tuple[list[ShotPlan], list[str], str]:
    """``status``'s look elsewhere (the command's and the MCP tool's): ``made_elsewhere`` on
    the provider ``status --season`` counts (``counted_provider``; the series compiled for it
    by ``compiled_for`` when it is not ``provider``), its notes, and that provider's name;
    nothing looked for when ``shown`` holds every shot of ``variants``."""
    manifest = variants.manifests[0]
    counted = counted_provider(manifest, provider, journal)
    name = counted or str(manifest.provider.get("name") or "local")
    keys = {f"{s.series}/{s.episode}/{s.id}" for m in variants.manifests for e in m.episodes
            for s in e.shots}
    if keys <= shown:
        return [], [], name
    made, notes = made_elsewhere(variants if counted == provider else compiled_for(counted),
                                 counted, shown, pending)
    return made, notes, name


def elsewhere_dict(shot: ShotPlan, provider: str) -> dict[str, object]:
    """``made_elsewhere``'s shot as ``status --json`` lists it beside the journal's rows."""
    return {"series": shot.series, "episode": shot.episode, "shot": shot.shot,
            "key": shot.key, "shot_hash": shot.hash, "state": shot.status,
            "task_id": shot.task_id, "note": shot.note, "cost": 0.0, "provider": provider,
            "current": True, "made_elsewhere": True}


def figures(number: int, episode: CompiledEpisode, the_plan: Plan,
            boards: Mapping[str, CompiledShot], states: Mapping[str, TakeState],
            journal: Sequence[Attempt]) -> EpisodeFigures:
    """The figures of ``episode`` (``number`` in the series)."""
    planned = [s for s in the_plan.shots if s.episode == episode.id or
               (s.episode == BOARDS and s.shot.split("/")[0] == episode.id)]
    videos: dict[str, list[ShotPlan]] = {}  # each shot's takes
    for shot in planned:
        if shot.episode != BOARDS:
            videos.setdefault(shot.shot.partition("#")[0], []).append(shot)
    used = [boards[ref.asset] for s in episode.shots
            if (ref := s.board) is not None and ref.asset is not None and ref.asset in boards]
    return EpisodeFigures(
        number, episode.id, episode.title, len(episode.shots),
        round(sum(s.request.duration for s in episode.shots) / 60, 2),
        sum(1 for b in used if states.get(state_key(b), {}).get("approved") is not None),
        len(used), sum(1 for takes in videos.values() if _done(takes)),
        episode_cost(episode.id, journal, the_plan.currency), _to_go(planned),
        sum(1 for takes in videos.values() if any(t.status == "waits" for t in takes)),
        the_plan.currency)


def _done(takes: Sequence[ShotPlan]) -> bool:
    """Whether a shot's video is made: any take of it as it is now (a retake still to render, or
    waiting on its board, leaves the video made before it counted; the studio's grid counts so)."""
    return any(t.status in DONE for t in takes)


def _to_go(planned: Sequence[ShotPlan]) -> float:
    """What is left to pay: the shots to render, and those waiting on a board once approved."""
    return round(sum(s.cost for s in planned if s.renders and not s.made_by)
                 + sum(s.waiting_cost for s in planned), 4)


def season_table(rows: Sequence[EpisodeFigures]) -> Table:
    """The figures as a table, a line per episode and one for the season."""
    table = Table(title="season")
    for name in ("#", "episode", "title", "shots", "min", "boards", "videos", "spent", "to go",
                 "waiting on boards"):
        table.add_column(name, justify="right" if name not in ("episode", "title") else "left")
    for r in rows:
        table.add_row(str(r.episode), r.id, r.title, str(r.shots), f"{r.minutes:.2f}",
                      f"{r.boards_approved}/{r.boards}", f"{r.videos_done}/{r.shots}",
                      f"{r.spent:.2f} {r.currency}", f"{r.to_go:.2f} {r.currency}",
                      str(r.waiting_on_boards))
    if rows:
        currency = rows[0].currency
        table.add_row("", "season", "", str(sum(r.shots for r in rows)),
                      f"{sum(r.minutes for r in rows):.2f}",
                      f"{sum(r.boards_approved for r in rows)}/{sum(r.boards for r in rows)}",
                      f"{sum(r.videos_done for r in rows)}/{sum(r.shots for r in rows)}",
                      f"{sum(r.spent for r in rows):.2f} {currency}",
                      f"{sum(r.to_go for r in rows):.2f} {currency}",
                      str(sum(r.waiting_on_boards for r in rows)))
    return table
