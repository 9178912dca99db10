"""Compiled shots into local animatics: the ``local`` provider, free and offline.

The ``local`` provider needs no account and no network: it draws each shot with ffmpeg
(``storyboard.animatic``) at the size and length the model would return, so every command works
on a fresh machine. A task is finished as soon as it is submitted; ``draft`` renders editor's
proxies.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.animatic import boards, cast
from storyboard.animatic.cachenames import cache_key
from storyboard.animatic.shots import existing, render_shot
from storyboard.errors import MediaError, RequestRejected, StoryboardError
from storyboard.files import clean_stale_temporaries
from storyboard.language.request import CompiledShot
from storyboard.media import ffmpeg
from storyboard.providers.base import DEFAULT_MAX_DOWNLOAD, BaseProvider, Traits
from storyboard.targets import Capabilities, PriceTable, TaskState, TaskStatus, Usage
from storyboard.targets.kinds import LOCAL

__all__ = ["LocalProvider"]
BOARD = "board"  # a board's ``AssetRequest.subject``


def link_or_copy(source: Path, dest: Path) -> None:
    """``dest`` as a hard link to ``source`` (one copy of the shot on disk; both are only ever
    replaced whole, never written in place), or a copy where the filesystem has no links."""
    dest.unlink(missing_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)




class LocalProvider(BaseProvider):
    """Renders animatics into ``work_dir``; a task is finished as soon as ``submit`` returns."""

    name = LOCAL.name
    capabilities = Capabilities()
    prices = PriceTable({"720P": 0.0, "1080P": 0.0})

    def __init__(self, work_dir: Path, draft: bool = False) -> None:
        self.work_dir = Path(work_dir)
        self.draft = draft
        # The renderer's version is in the key: a changed animatic renders again.
        self.cache_key = cache_key(draft)
        # Free; its videos are files here already (never "downloading"); drafts are proxies
        # that the committed lock never records (it records finished work).
        self.traits = Traits(paid=False, lists=False, downloads=False, writes_lock=not draft,
                             wire_watched=True)  # it sends nothing
        self._durations: dict[str, float] = {}
        self._swept = False  # a killed render's half-written videos are removed once a run

    @staticmethod
    def task_id(shot: CompiledShot) -> str:
        """``local-<hash>``; a cast asset's ends with its file type (``local-<hash>.png``)."""
        suffix = shot.asset.suffix if shot.asset is not None else ""
        return f"local-{shot.hash[:16]}{suffix}"

    def path(self, task_id: str) -> Path:
        """Where a task's video (or asset) lives; draft and full renders (and renderer versions)
        differ."""
        stem, dot, suffix = task_id.partition(".")
        return self.work_dir / f"{stem}-{self.cache_key}.{suffix if dot else 'mp4'}"

    def preflight(self) -> None:
        """Nothing to check: ffmpeg is found (or reported) when the first shot renders."""

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        task_id = self.task_id(shot)
        if not self._swept:  # ``.local-....p<pid>.*.mp4`` of a process that is gone
            self._swept = True
            await asyncio.to_thread(clean_stale_temporaries, self.work_dir)
        try:
            # A worker thread, so several shots render at once (ffmpeg does the work, not Python).
            if shot.asset is not None:
                await asyncio.to_thread(draw_asset, shot, self.path(task_id))
            else:
                await asyncio.to_thread(render_shot, shot.request, self.path(task_id),
                                        first_frame=first_frame, draft=self.draft)
        except StoryboardError as exc:  # a local render fails the same way every time: no retry
            raise RequestRejected(str(exc), provider=self.name, shot=shot.id,
                                  code="RenderFailed") from exc
        self._durations[task_id] = float(shot.request.duration)
        return task_id

    async def query(self, task_id: str) -> TaskState:
        path = self.path(task_id)
        if not path.is_file():
            # A free render that is gone: it ends (redoing it costs nothing), never UNKNOWN.
            return TaskState(task_id, TaskStatus.FAILED, code="NotFound",
                             message=f"no local render {path.name}")
        seconds = self._durations.get(task_id)
        if seconds is None and "." in task_id:  # a cast asset: no video to measure
            seconds = 0.0
        if seconds is None:  # a task from an earlier process: measure the file
            seconds = (await asyncio.to_thread(ffmpeg.stream_lengths, path)).get("video", 0.0)
        return TaskState(task_id, TaskStatus.SUCCEEDED, video_url=path.resolve().as_uri(),
                         usage=Usage(output_seconds=seconds))

    async def cancel(self, task_id: str) -> None:
        return None

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        state = await self.query(self.task_id(shot))
        return [state] if state.status is TaskStatus.SUCCEEDED else []

    async def download(self, state: TaskState, dest: Path, *,
                       limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
        if not state.video_url:
            raise MediaError(f"task {state.task_id} has no video")
        source = Path(urllib.request.url2pathname(urllib.parse.urlparse(state.video_url).path))
        await asyncio.to_thread(link_or_copy, existing(source), dest)

    async def aclose(self) -> None:
        return None


def draw_asset(shot: CompiledShot, out: Path) -> Path:
    """An asset's stand-in: a drawn board for a board (the shot's words over the cast's local
    cards), a labelled card for another image, a tone for a voice or a line."""
    asset = shot.asset
    assert asset is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    several = shot.take > 1 or bool(shot.others)
    if asset.kind == "image" and asset.subject == BOARD:
        cards = [ref.path for ref in asset.refs if ref.path is not None]
        return boards.draw_board(out, name=asset.name, words=asset.prompt, cards=cards,
                                 size=asset.size, content_hash=shot.hash,
                                 take=shot.take if several else 0)
    if asset.kind in ("image", "element", "portrait"):  # an element's, a portrait's: a card
        return cast.draw_card(out, name=asset.name, prompt=asset.prompt, content_hash=shot.hash,
                              take=shot.take if several else 0)
    if asset.kind in ("voice", "kvoice"):  # a Kling voice's stand-in: a tone, as a voice's
        seconds = cast.seconds_for(asset.sample or asset.prompt or asset.name, cast.VOICE_SECONDS)
    else:
        seconds = cast.line_seconds(asset.prompt)
    return cast.draw_tone(out, seconds=seconds, content_hash=shot.hash)


if TYPE_CHECKING:  # mypy checks that LocalProvider satisfies the protocol
    from storyboard.providers.base import Provider

    _conforms: Provider = LocalProvider(Path())
