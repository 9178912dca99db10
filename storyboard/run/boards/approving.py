"""An approved board into where the shots using it may render now: each concerned plan's own gate.

``approve`` of a board says its shots "may render" only where they may. The gate is asked as the
plan of each provider concerned asks it (``prepare`` then ``boards.gate.waiting``): the series' own
provider (where ``storyboard render`` goes) and every paid provider that drew a take of the
board, as the lock or this clone's journal says (where its videos are meant to be paid). A take
drawn on a free provider (a ``retake`` on ``local``) is no take a paid plan renders from, so its
approval lets nothing go there:
``approve`` names the provider that drew the take and the retake that ends the wait. A take that
another provider drew a picture of its own for (the same request, another picture) waits there
for that picture's approval: ``approve`` names the ``approve --provider`` that ends the wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot, Manifest
from storyboard.run.boards.gate import ELSEWHERE, waiting, waits_key
from storyboard.run.setup import prepare
from storyboard.run.state.lock.boardbytes import BoardBytes
from storyboard.run.state.lock.lockfile import DRAFT_LOCK, LockFile, lock_path, read_lock, take_key
from storyboard.run.state.takes import find_shot, state_key, with_retakes
from storyboard.run.state.tasks.journal import read_status
from storyboard.targets.kinds import is_paid, named


@dataclass(frozen=True)
class Approved:
    """What an approval of take ``take`` of a board lets go: who drew it (``""``: the lock does
    not say), the series' own provider, each concerned provider whose plan still holds shots
    using the board, with those shots, and each whose plan cannot be made here, with why."""

    take: int
    drawn_on: str
    own: str
    held: dict[str, list[str]] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)  # each holding plan's own words for it

    @property
    def may_render(self) -> bool:
        """Whether every concerned plan lets the shots using the board go."""
        return not self.held and not self.unknown

    @property
    def render_on(self) -> str | None:
        """The provider to name on ``render`` when the take was paid for on another than the
        series' own (None: the series' own)."""
        paid_elsewhere = self.drawn_on and is_paid(self.drawn_on) and self.drawn_on != self.own
        return self.drawn_on if paid_elsewhere else None

    def still_held(self, folder: str, board: str) -> list[str]:
        """A line for each provider whose plan still holds shots using ``board`` (as the
        command named it), with what ends the wait, and for each whose plan is not known."""
        return [*(f"{', '.join(shots)} still wait(s) for it on {provider}: "
                  f"{self._ends(provider, folder, board)}" for provider, shots in self.held.items()),
                *(f"whether its shots may render on {provider} is not known here ({why}): "
                  f"storyboard plan {folder} --provider {provider} says"
                  for provider, why in self.unknown.items())]

    def _ends(self, provider: str, folder: str, board: str) -> str:
        if self.why.get(provider, "").startswith(ELSEWHERE):
            return (f"{provider} drew a picture of its own for it, which no one has approved "
                    f"(storyboard takes {folder} {board} --provider {provider} shows it): "
                    f"approve that one with storyboard approve {folder} {board} --provider "
                    f"{provider}")
        if not self.drawn_on or is_paid(self.drawn_on):
            return f"storyboard plan {folder} --provider {provider} says why"
        return (f"take {self.take} was drawn on {self.drawn_on} (free), which a {provider} "
                f"render does not use: draw one there: storyboard retake {folder} {board} "
                f"--provider {provider}, then pick and approve that take")


def after_approval(manifest: Manifest, board_id: str, take: int) -> Approved:
    """Where the shots using board ``board_id`` may render now that take ``take`` is approved."""
    lock = read_lock(lock_path(manifest.root))
    board = find_shot(with_retakes(manifest, lock), board_id)
    drawers = drawn_by(board, lock)
    own = named(manifest.provider)
    said = lock.takes.get(state_key(board), {}).get("approved_on")  # approve --provider's
    approved = Approved(take, str(said or drawers.get(take, "")), own)
    for name in sorted({own, approved.drawn_on, *drawers.values(), *_journaled(manifest, board)}
                       - {""}):
        if is_paid(name):
            _ask_gate(approved, manifest, name, board.shot_id)
    return approved


def drawn_by(board: CompiledShot, lock: LockFile) -> dict[int, str]:
    """The provider that drew each take of ``board`` as it is now, as the lock (or the drafts'
    lock) records it."""
    drafts = read_lock(lock.path.parent / DRAFT_LOCK).shots
    found: dict[int, str] = {}
    for take in board.all_takes():
        for entries in (lock.shots, drafts):
            entry = entries.get(take_key(take), {})
            if entry.get("hash") == take.hash and entry.get("provider"):
                found.setdefault(take.take, str(entry["provider"]))
    return found


def _journaled(manifest: Manifest, board: CompiledShot) -> set[str]:
    """Each provider this clone's journal says drew a take of ``board`` as it is now (the lock
    keeps only the last one's record of a take)."""
    hashes = {take.hash for take in board.all_takes()}
    return {a.provider for a in read_status(manifest.root)
            if a.shot_hash in hashes and a.state == "done"}


def _ask_gate(approved: Approved, manifest: Manifest, provider: str, board_id: str) -> None:
    """Record on ``approved`` the shots whose videos the plan on ``provider`` holds for
    ``board_id`` (that plan's own gate), or why that plan cannot be made here."""
    try:
        setup = prepare(manifest, provider=provider, offline=True)
    except StoryboardError as error:
        approved.unknown[provider] = str(error).splitlines()[0]
        return
    lock = setup.lock if setup.lock is not None else read_lock(lock_path(manifest.root))
    waits = waiting(setup.manifest, BoardBytes(setup.cache, lock, setup.provider.name),
                    paid=setup.provider.traits.paid)
    held = [(shot, waits[key]) for shot in setup.manifest.episode_shots()
            if (key := waits_key(shot.series, shot.episode, shot.id)) in waits
            and waits[key][0] == board_id]
    if held:
        approved.held[provider] = [shot.shot_id for shot, _ in held]
        approved.why[provider] = held[0][1][1]


def free_retake_note(manifest: Manifest, board_id: str, provider: str) -> str | None:
    """What ``retake`` of a board on ``provider`` says when that is a free provider and paid
    ones drew the board's other takes: a paid plan does not render from a take drawn here."""
    if is_paid(provider):
        return None
    try:
        board = find_shot(with_retakes(manifest), board_id)
    except StoryboardError:
        return None
    paid = sorted({name for name in drawn_by(board, read_lock(lock_path(manifest.root))).values()
                   if is_paid(name)})
    if not paid:
        return None
    return (f"drawn on {provider} (free): a {' or '.join(paid)} render does not use a take drawn "
            f"here, even approved; --provider {paid[0]} draws it there")
