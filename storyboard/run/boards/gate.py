"""A series' boards and the lock's take states into the run's part of them: the gate and ``--boards``.

A board (``boards/EP/SHOT``) is an asset like the cast's sheets: planned, consented, journaled,
cached, picked and approved by the same code. What only boards do is decided here:

- the gate: with a paid provider, a shot's video is sent only once the board it uses is approved
  (the approved take is the one it uses); until then each of its takes ``waits (board not
  approved)``, costs nothing and is never submitted, and the plan names the ``approve`` command.
  ``boards: {gate: false}`` lets a picked board do; a free provider (``local``) never waits.
  The approval is of a picture: the board's file in the cache must still be it (``boardbytes``),
  else the video ``waits (board changed after approval)``, naming the file and what ends it.
  A picture approved as one provider drew it is not the one another draws: on that other
  provider the video ``waits (board not approved as this provider drew it)``, naming both and
  the ``approve --provider`` that lets it go (never a paid retake of a picture nobody has seen).
  A picked board (the gate off) whose people were measured showing another face than its shot
  declares (an ``identity`` error) holds its video too: ``waits (board not approved: it shows
  another face)``,
  said before anything is paid, until the board is approved as it is or another is picked.
  Two boards drawn from one request are one picture: approved by either name, it lets go the
  videos of both, and each video names its own board (``waits_key``: by shot, not by hash).
- ``render SERIES boards``: the boards (and the cast they use) and nothing else.
- the hosted copy: a gateway fetches a board larger than its video model takes as a scaled copy
  in ``.storyboard/sent/``, drawn as soon as the board is approved or picked (``hosted_copies``)
  so a sync of the series folder then hosts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from storyboard.language.request import CompiledShot, Manifest, MediaRef, is_board
from storyboard.providers import stillcopy
from storyboard.providers.base import Provider
from storyboard.run.plans import FREE, Plan
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.castinputs import shown_folder
from storyboard.run.state.lock.boardbytes import BoardBytes
from storyboard.run.state.lock.lockfile import TakeState, lock_path, read_lock, recorded_output
from storyboard.run.state.lock.pictures import approved_on
from storyboard.run.state.measured import Thresholds, thresholds
from storyboard.run.state.people.findings import people_findings
from storyboard.run.state.takes import find_shot, rendered_takes, state_key, users, with_retakes
from storyboard.run.trip.guards.mediacheck import media_base_url

NOT_APPROVED = "waits (board not approved)"
NOT_PICKED = "waits (board not picked)"
CHANGED = "waits (board changed after approval)"
PICK_CHANGED = "waits (board changed after it was picked)"  # ``boards: {gate: false}``
ELSEWHERE = "waits (board not approved as this provider drew it)"
WRONG_FACE = "waits (board not approved: it shows another face)"  # picked, gate off, identity


Waits = dict[tuple[str, str, str], tuple[str, str]]


def waits_key(series: str, episode: str, shot: str) -> tuple[str, str, str]:
    """How ``waiting`` names a video take: its series, episode and id (a take's own,
    ``s1#2``), as a plan's row does; never its hash, which two shots saying the same words
    share while each starts from its own board."""
    return series, episode, shot


def waiting(manifest: Manifest, files: BoardBytes, *, paid: bool) -> Waits:
    """Each video take that waits for its board (``waits_key``): (the board's id, why, with the
    command that lets it go). None waits for a free provider. ``manifest`` is as picked (the
    needs hold the hash of the board take each shot uses); each board says whether its gate is
    on (``CompiledShot.gate``: ``boards: {gate: false}`` lets a picked board do); ``files``
    holds the lock's take states and checks each board's file that would let its video go.

    An approval is of a picture: two boards drawn from the same request are one picture, so an
    approval of either lets go the videos of both (and two shots with one video, the same task,
    wait or go together)."""
    if not paid:
        return {}
    boards = {(board.series, board.shot_id): board for board in manifest.cast
              if is_board(board.shot_id)}  # a matrix's variations have a board each
    approvals = _approvals(boards.values(), files)
    found: Waits = {}
    limits = thresholds(manifest.checks)
    for shot in manifest.episode_shots():
        why = _shot_waits(shot, boards, approvals, files, manifest.root) or \
            _wrong_face(shot, boards, files, manifest.root, limits)
        if why is not None:
            found.update({waits_key(t.series, t.episode, t.id): why for t in shot.all_takes()})
    return found


Approvals = dict[tuple[str, str], list[tuple[CompiledShot, TakeState]]]


def _approvals(boards: Iterable[CompiledShot], files: BoardBytes) -> Approvals:
    """Each approved board take by its series and hash: the board and its take state."""
    found: Approvals = {}
    for board in boards:
        state = files.lock.takes.get(state_key(board), {})
        digest = state.get("approved_hash")
        if state.get("approved") is not None and isinstance(digest, str):
            found.setdefault((board.series, digest), []).append((board, state))
    return found


def _shot_waits(shot: CompiledShot, boards: Mapping[tuple[str, str], CompiledShot],
                approvals: Approvals, files: BoardBytes, root: Path) -> tuple[str, str] | None:
    for asset, digest in shot.needs.items():
        board = boards.get((shot.series, asset))
        if board is None:
            continue
        states = [(board, files.lock.takes.get(state_key(board), {}))] + [
            (other, state) for other, state in approvals.get((board.series, digest), [])
            if other is not board]  # the same picture, approved by another board's name
        why = _board_waits(board, digest, states, files, root)
        if why is not None:
            return asset, why
    return None


def _wrong_face(shot: CompiledShot, boards: Mapping[tuple[str, str], CompiledShot],
                files: BoardBytes, root: Path, limits: Thresholds) -> tuple[str, str] | None:
    """A board that lets its video go unapproved (picked, the gate off) but shows another face
    than the shot declares (an ``identity`` error, measured as it arrived): said before the
    video is paid for, which waits until a person approves that board (``--force``) or picks
    another. An approved board was seen: it goes."""
    for asset, digest in shot.needs.items():
        board = boards.get((shot.series, asset))
        state = files.lock.takes.get(state_key(board), {}) if board is not None else {}
        take = next((t for t in board.all_takes() if t.hash == digest), None) if board else None
        if take is None or _approves(state, digest):
            continue
        sha = recorded_output(files.lock, take)
        wrong = [f for f in people_findings(root, sha, take, limits, files.lock)
                 if f.kind == "identity" and f.severity == "error"] if sha else []
        if wrong:
            folder, named = shown_folder(root), board_name(take)
            return asset, (f"{WRONG_FACE}: take {take.take} of {named} {wrong[0].detail}; nothing "
                           f"is sent or paid until it is approved as it is (storyboard approve "
                           f"{folder} {named} --force) or another take is picked")
    return None


def _approves(state: TakeState, digest: str) -> bool:
    return state.get("approved") is not None and state.get("approved_hash") == digest


def _board_waits(board: CompiledShot, digest: str, states: list[tuple[CompiledShot, TakeState]],
                 files: BoardBytes, root: Path) -> str | None:
    """Why a video starting from take ``digest`` of ``board`` waits (None: it goes): no state
    lets it go, or none whose file is the picture it let go."""
    ready = [(by, state) for by, state in states if _ready(board, digest, state)]
    if not ready:
        return _why(board, root)
    problems = []
    for by, state in ready:
        problem = files.problem(digest, state)
        if problem is None:
            return None
        problems.append((by, state, problem))
    by, state, (path, why) = problems[0]
    approved = _approves(state, digest)
    take = next((t for t in by.all_takes() if t.hash == digest), by)
    on = approved_on(state, files.lock, take) if approved else ""
    if on and files.provider and on != files.provider:
        named = "" if by is board else f" (as {board_name(by)})"
        return _elsewhere(board, root, f"{on}{named}", files.provider, path.is_file())
    return _changed(board, root, path, why, "approved" if approved else "picked")


def _ready(board: CompiledShot, digest: str, state: TakeState) -> bool:
    """Whether the take of ``board`` a shot uses (``digest``) lets its video go: approved (as
    that very take), or with the gate off picked."""
    if _approves(state, digest):
        return True
    if board.gate:
        return False
    picked = next((t for t in board.all_takes() if t.take == state.get("picked")), None)
    return picked is not None and picked.hash == digest


def _why(board: CompiledShot, root: Path) -> str:
    """What the plan and the run say of a shot waiting for ``board``: the command that ends it."""
    folder = shown_folder(root)
    named = board_name(board)
    if board.gate:
        return (f"{NOT_APPROVED}: nothing is sent or paid until its board is approved: "
                f"storyboard approve {folder} {named}")
    return (f"{NOT_PICKED}: nothing is sent or paid until a take of its board is picked: "
            f"storyboard pick {folder} {named} TAKE")


def _changed(board: CompiledShot, root: Path, path: Path, problem: str, chosen: str) -> str:
    """What the plan and the run say of a shot whose board's file is not the picture ``chosen``
    (approved, or with the gate off picked)."""
    folder, named = shown_folder(root), board_name(board)
    try:
        shown = path.relative_to(root).as_posix()
    except ValueError:
        shown = path.as_posix()
    said = CHANGED if chosen == "approved" else PICK_CHANGED
    then = "pick and approve it" if board.gate else "pick it"
    return (f"{said}: its file {shown} is not what was {chosen} ({problem}); nothing is sent "
            f"or paid until it is: put the {chosen} picture back there, or draw another "
            f"(storyboard retake {folder} {named}), then {then}")


def _elsewhere(board: CompiledShot, root: Path, on: str, here: str, drew: bool) -> str:
    """What the plan and the run say of a shot whose board was approved as ``on`` drew it, on
    ``here``, which draws a picture of its own (``drew``: drew it already): nobody has seen that
    one, so it is approved (or not) as it is, never paid for again."""
    folder, named = shown_folder(root), board_name(board)
    drawing = (f"{here} drew its own, which no one has approved: see it with storyboard takes "
               f"{folder} {named} --provider {here}" if drew else
               f"{here} draws its own (its board's row, before the video)")
    return (f"{ELSEWHERE}: approved on {on}; {drawing}; nothing of the video is sent or paid "
            f"until that picture is approved: approve it with storyboard approve {folder} "
            f"{named} --provider {here}")


def board_name(board: CompiledShot) -> str:
    """How a take command names ``board``: ``boards/EP/SHOT``, led by its variation in a matrix."""
    variation = board.series.partition("/")[2]
    return f"{variation}/{board.shot_id}" if variation else board.shot_id


def hold(the_plan: Plan, waits: Waits) -> dict[str, str]:
    """Mark each planned take in ``waits`` that would be paid as waiting (it costs nothing); the
    reasons by hash, for the runner to skip them (``Wiring.skips``)."""
    held: dict[str, str] = {}
    for index, planned in enumerate(the_plan.shots):
        found = waits.get(waits_key(planned.series, planned.episode, planned.shot))
        if found is None or planned.status in FREE:
            continue
        board, why = found
        the_plan.shots[index] = replace(planned, status="waits", billed_seconds=0.0, cost=0.0,
                                        waits_on=board, note=why, same_as=None,
                                        waiting_cost=planned.cost)
        held[planned.hash] = why
    return held | _hold_followers(the_plan, held)


def _hold_followers(the_plan: Plan, held: Mapping[str, str]) -> dict[str, str]:
    """Mark as waiting each take whose first frame comes from a held shot (``waits_on``), and
    those after it, with its leader's reason: it cannot be sent before that shot, so it is
    neither paid nor priced now."""
    reasons = {(s.series, s.episode, s.shot): held[s.hash] for s in the_plan.shots
               if s.hash in held}
    followers: dict[str, str] = {}
    for index, planned in enumerate(the_plan.shots):  # a leader is planned before its followers
        why = reasons.get((planned.series, planned.episode, planned.waits_on or ""))
        if why is None or planned.status in FREE:
            continue
        the_plan.shots[index] = replace(planned, status="waits", billed_seconds=0.0, cost=0.0,
                                        note=why, same_as=None, waiting_cost=planned.cost)
        reasons[(planned.series, planned.episode, planned.shot)] = followers[planned.hash] = why
    return followers


def hosted_copies(manifest: Manifest, board_id: str, take: int, provider: Provider,
                  cache: OutputCache) -> list[Path]:
    """The scaled copies of take ``take`` of board ``board_id`` that ``provider`` (a gateway,
    which fetches files from the hosted series folder) is sent for the shots starting from it,
    drawn now; empty for a provider that uploads, a board not made yet or one that fits."""
    if media_base_url(provider) is None:
        return []
    board = find_shot(with_retakes(manifest), board_id)
    digest = rendered_takes(board, read_lock(lock_path(manifest.root))).get(take)
    if digest is None or not cache.has(digest):
        return []
    picture = MediaRef(path=cache.path(digest))
    models = {shot.request.model for shot in users(manifest, board_id) if board_id in shot.needs}
    copies = {stillcopy.hosted(picture, model, manifest.root).path for model in sorted(models)}
    return sorted(path for path in copies if path is not None and path != picture.path)
