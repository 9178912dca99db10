"""Board names into many approvals or picks at once, and a missing board into why it is missing.

``storyboard approve SERIES boards/EP`` (or ``boards/EP/*``, or ``--all-boards``) approves the
take each named board uses, as ``approve`` does one by one (``choices.checks.approve_checked``), and
says what it approved and what it skipped and why: a board not made yet, one already approved,
one with several takes and none picked (which is meant is not guessed), one whose take has
findings (without ``--force``). ``pick`` does the same with one take number, or ``--best``.
A shot that has no board by design (its first frame is another shot's last, or its own still)
is said as such, not as "no shot".
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from storyboard.errors import StoryboardError
from storyboard.language.request import BOARDS, CompiledShot, Manifest, is_board
from storyboard.run.choices.checks import HasFindings, approve_checked, best_take
from storyboard.run.state.castinputs import shown_folder
from storyboard.run.state.lock.lockfile import LockFile, TakeState, lock_path, read_lock
from storyboard.run.state.lock.pictures import Drawer, approved_on, drawer_of, pictures
from storyboard.run.state.takes import (
    find_shot,
    pick,
    rendered_takes,
    state_key,
    with_retakes,
)

EVERY = BOARDS  # what ``--all-boards`` names: every board of the series


@dataclass(frozen=True)
class Outcome:
    """One board of a batch: the take approved (or picked), or why it was skipped."""

    board: str  # boards/EP/SHOT
    take: int | None = None  # None: skipped
    why: str = ""  # why it was skipped ("" when it was not)
    stands: bool = False  # skipped as approved already (approving it again, or picking another
    # take of it): nothing the batch asked is left undone there

    @property
    def failed(self) -> bool:
        """Whether the board is left short of what the batch asked (the command exits 1)."""
        return self.take is None and not self.stands

    def to_dict(self) -> dict[str, object]:
        return {"board": self.board, "take": self.take, "skipped": self.why or None}


def is_batch(name: str) -> bool:
    """Whether a take command's SHOT names several boards: ``boards/EP``, a glob of boards
    (``boards/EP/*``), or ``boards`` (every board)."""
    if name == EVERY:
        return True
    return is_board(name) and (name.count("/") == 1 or any(c in name for c in "*?["))


def boards_named(manifest: Manifest, name: str) -> list[CompiledShot]:
    """The boards ``name`` names, in series order; an error naming what exists when none."""
    pattern = name if name == EVERY or any(c in name for c in "*?[") else f"{name}/*"
    pattern = f"{BOARDS}/*" if pattern == EVERY else pattern.rstrip("/")
    found = [b for b in manifest.cast if is_board(b.shot_id)
             and fnmatch.fnmatchcase(b.shot_id, pattern)]
    if found:
        return found
    episodes = sorted({b.shot_id.rsplit("/", 1)[0] for b in manifest.cast if is_board(b.shot_id)})
    if not episodes:
        raise StoryboardError("this series has no boards (no boards: block): nothing to approve")
    raise StoryboardError(f"{name!r} names no board of this series; expected one of: "
                          f"{', '.join(episodes[:8])} (or --all-boards)")


def approve_boards(manifest: Manifest, boards: list[CompiledShot], *, force: bool = False,
                   drawer: Drawer | None = None) -> list[Outcome]:
    """Approve the take each board uses (its picked take, or its only one), board by board,
    exactly as ``approve`` does (``drawer``: the pictures that provider drew); the others
    skipped with why."""
    def act(name: str) -> int:
        return approve_checked(manifest, name, force=force, drawer=drawer)
    return [_each(manifest, board, act, approving=True, drawer=drawer) for board in boards]


def pick_boards(manifest: Manifest, boards: list[CompiledShot], take: int | None
                ) -> list[Outcome]:
    """Pick take ``take`` of each board (``None``: each board's best, as ``pick --best``); an
    approved board keeps its approval (skipped), as ``pick`` without ``--replace-approved``."""
    def chosen(name: str) -> int:
        number = take if take is not None else best_take(manifest, name)[0]
        pick(manifest, name, number)
        return number
    return [_each(manifest, board, chosen, approving=False) for board in boards]


def _each(manifest: Manifest, board: CompiledShot, act: Callable[[str], int], *,
          approving: bool, drawer: Drawer | None = None) -> Outcome:
    name = board.shot_id
    lock = read_lock(lock_path(manifest.root))
    current = find_shot(with_retakes(manifest, lock), name)
    state = lock.takes.get(state_key(current), {})
    done = pictures(current, lock, drawer) if approving else dict(rendered_takes(current, lock))
    why, stands = _skip(current, state, done, approving=approving, drawer=drawer)
    if approving and not why and drawer is None:
        why = _drawn_since(current, state, lock)
    why = why.replace("SERIES", shown_folder(manifest.root))
    if why:
        return Outcome(name, None, why, stands)
    try:
        return Outcome(name, act(name))
    except HasFindings as error:
        return Outcome(name, None, f"{error} (approve it alone with --force)")
    except StoryboardError as error:
        return Outcome(name, None, str(error))


def _skip(board: CompiledShot, state: TakeState, lock_done: Mapping[int, str | None], *,
          approving: bool, drawer: Drawer | None = None) -> tuple[str, bool]:
    """Why ``board`` is left out of a batch ("" : it is not), and whether it stands approved
    as it is. ``lock_done``: each rendered take, and (approving) the sha256 of its picture
    (``drawer``'s, else the lock's)."""
    if not lock_done:
        on = "" if drawer is None else f" on {drawer.name}"
        again = "" if drawer is None else f" --provider {drawer.name}"
        return f"not made yet{on}: storyboard render SERIES boards{again} makes it", False
    approved, picked = state.get("approved"), state.get("picked")
    if approving and approved is not None and picked in (None, approved) and \
            _same_picture(board, state, lock_done):
        return f"already approved (take {approved})", True
    if not approving and approved is not None:
        return (f"approved (take {approved}): its approval stands; pick it alone with "
                "--replace-approved to lift it"), True
    if approving and picked not in lock_done and len(lock_done) > 1:
        return (f"{len(lock_done)} takes and none picked: storyboard pick SERIES "
                f"{board.shot_id} TAKE first"), False
    return "", False


def _same_picture(board: CompiledShot, state: TakeState,
                  pictures_of: Mapping[int, str | None]) -> bool:
    """Whether the approved take of ``board`` is the one rendered now, as the same picture."""
    take = next((t for t in board.all_takes() if t.take == state.get("approved")), None)
    if take is None or take.take not in pictures_of or state.get("approved_hash") != take.hash:
        return False
    approved = state.get("approved_sha256")
    return approved is None or approved == pictures_of[take.take]


def _drawn_since(board: CompiledShot, state: TakeState, lock: LockFile) -> str:
    """Why a batch without ``--provider`` leaves a board alone whose approved picture one
    provider drew and whose take another drew since ("": none did): that picture is unseen,
    and approving it is asked by name (``--provider``)."""
    take = next((t for t in board.all_takes() if t.take == state.get("approved")), None)
    if take is None or state.get("approved_hash") != take.hash:
        return ""
    on, since = approved_on(state, lock, take), drawer_of(lock, take)
    if not on or not since or on == since:
        return ""
    return (f"approved on {on} (take {take.take}); {since} drew its own since, which no one has "
            f"approved: storyboard approve SERIES {board.shot_id} --provider {since} approves "
            "it")


def why_no_board(manifest: Manifest, name: str) -> None:
    """Raise, saying why, when ``name`` (``boards/EP/SHOT``) is no board of this series but
    ``EP/SHOT`` is one of its shots: its first frame is another shot's, or it has a still of its
    own, or it says ``board: false``. Nothing when the board exists (or the shot does not:
    ``find_shot`` says so)."""
    if not is_board(name) or any(b.shot_id == name for b in manifest.cast):
        return
    shot_id = name.removeprefix(f"{BOARDS}/")
    shot = next((s for s in manifest.episode_shots() if s.shot_id == shot_id), None)
    if shot is None:
        return
    raise StoryboardError(f"{shot_id} has no board to approve or pick: {_reason(shot)}")


def _reason(shot: CompiledShot) -> str:
    if shot.depends_on is not None:
        leader = f"{shot.episode}/{shot.depends_on.partition('#')[0]}"
        return (f"its first frame is {leader}'s last frame (first_frame: {{from: ...}}), so it "
                f"needs no still; it renders once {leader} has (approve {BOARDS}/{leader} to let "
                "that one go)")
    if shot.board is not None and shot.board.path is not None:
        return (f"its board is its own still ({shot.board.path.name}, board: PATH), never made "
                "or paid, so there is nothing to approve")
    return ("it has none by its own words (board: false, or a first frame or clip of its own, "
            "or boards: {as: none})")
