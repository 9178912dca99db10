"""Image asset shots into a vendor's picture calls: Seedream's synchronous call, Kling's image task.

A gateway that makes pictures (``dialects.images``: Seedream on Ark and ModelArk, Kling's Omni
image) answers an image asset's ``submit``, ``query`` and ``find`` here; the download is the
gateway's own (the key goes only to its host). Its task ids are ours, prefixed, so a query knows a
picture's from a video's:

- a synchronous call (Seedream) answers with the picture at once and no task id: the id is
  ``picture-<digest of the URL>`` and the URL is kept, in memory and under the provider's work
  area, by the id and by the shot's hash, before the runner hears the id. A lost answer cannot be
  looked up (no task was made that a list could show): ``find`` gives what was kept for the shot,
  else ``NeverListed``, so the runner stops the board as possibly billed and never sends it
  again by itself.
- an asynchronous task (Kling) is ``image-<task id>``, polled on the wire's task path in the
  wire's words; a lost submit is looked for in the account's image tasks by time alone (a
  listed image task shows no prompt), within ``LOST_SUBMIT_LANDS`` of the intent.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from storyboard.dialects.base import get
from storyboard.dialects.images import ImageWire
from storyboard.errors import ListUnavailable, NeverListed, ProviderError, UnreadAnswer
from storyboard.files import state_folder, write_atomic
from storyboard.language.request import CompiledShot, MediaRef
from storyboard.providers.base import CLOCK_SKEW, LOST_SUBMIT_LANDS, Ask
from storyboard.targets import TaskProtocol, TaskState, TaskStatus

SYNC_PREFIX = "picture-"  # a synchronous call's picture (no task id of the vendor's)
TASK_PREFIX = "image-"  # a vendor's image task


class Caller(Protocol):
    """What the picture calls need of the gateway that sends them (declared here, so neither
    module imports the other): its name, JSON calls, retry policy and public URLs."""

    name: str
    @property
    def ask(self) -> Ask: ...  # its run's retry policy (its hooks)

    async def request_json(self, method: str, path: str, *, what: str, shot: str = "",
                    **kwargs: Any) -> dict[str, Any]: ...

    def public_url(self, ref: MediaRef, shot: str) -> str: ...


def is_picture(task_id: str) -> bool:
    """A task id the picture calls answer (not a video task's)."""
    return task_id.startswith((SYNC_PREFIX, TASK_PREFIX))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _seconds(stamp: float) -> float:
    return stamp / 1000 if stamp > 1e11 else stamp


class PictureCalls:
    """One gateway's picture calls over ``wire``, its task words ``words``; what a synchronous
    answer gave kept under ``work_dir`` (None: in memory only)."""

    def __init__(self, caller: Caller, wire: ImageWire, words: TaskProtocol,
                 work_dir: Path | None, prefix: str = TASK_PREFIX) -> None:
        self.caller, self.wire, self.words, self.work_dir = caller, wire, words, work_dir
        self.prefix = prefix  # its task ids' (an element's: ``element-``)
        self._urls: dict[str, str] = {}

    def asking(self, caller: Caller) -> PictureCalls:
        """These calls made through ``caller`` (a copy of their provider, given its hooks),
        sharing what they keep."""
        calls = copy.copy(self)
        calls.caller = caller
        return calls

    # -- submit ------------------------------------------------------------------------------

    async def submit(self, shot: CompiledShot) -> str:
        asset = shot.asset
        assert asset is not None
        urls = [self._url(ref, shot) for ref in asset.refs]
        answer = await self.caller.request_json("POST", self.wire.submit_path,
                                         what=f"{self.wire.name} submit", shot=shot.id,
                                         json=self.wire.body(asset, urls))
        if not self.wire.synchronous:
            task_id = get(answer, self.wire.task_id)
            if not isinstance(task_id, str | int) or task_id in ("", None):
                raise self._unread(shot.id, f"no task id at {self.wire.task_id}")
            return self.prefix + str(task_id)
        return self._kept_answer(shot, self._picture(answer, shot.id))

    def _url(self, ref: MediaRef, shot: CompiledShot) -> str:
        if ref.asset is not None:
            raise ProviderError(f"reference {ref.asset} was not resolved to a file",
                                provider=self.caller.name, shot=shot.id)
        return self.caller.public_url(ref, shot.id)

    def _picture(self, answer: dict[str, Any], shot: str) -> str:
        url = get(answer, self.wire.image_url)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise self._unread(shot, f"no picture URL at {self.wire.image_url}")
        return url

    def _unread(self, shot: str, why: str) -> UnreadAnswer:
        """An answer that says neither a picture nor a refusal: it may have been billed."""
        return UnreadAnswer(f"{self.wire.name}: an answer that is neither a picture nor a "
                            f"documented refusal ({why})", provider=self.caller.name, shot=shot,
                            code="UnreadAnswer")

    def _kept_answer(self, shot: CompiledShot, url: str) -> str:
        """The picture's id, its URL kept by the id and by the shot's hash first: a process
        killed before the journal hears the id finds the answer again (``find``)."""
        task_id = SYNC_PREFIX + hashlib.sha256(url.encode()).hexdigest()[:32]
        self._urls[task_id] = url
        now = time.time()
        self._write(f"pictures/{_safe(shot.hash)}.shot.json",
                    {"task_id": task_id, "url": url, "at": now})
        self._write(f"pictures/{_safe(task_id)}.json", {"url": url, "at": now})
        return task_id

    # -- query -------------------------------------------------------------------------------

    async def query(self, task_id: str) -> TaskState:
        if task_id.startswith(SYNC_PREFIX):
            url = self._urls.get(task_id) or self._read_url(f"pictures/{_safe(task_id)}.json")
            if url is None:
                return TaskState(task_id, TaskStatus.UNKNOWN, code="Gone",
                                 message="a picture's answer is no longer kept here: it is "
                                         "made again")
            return TaskState(task_id, TaskStatus.SUCCEEDED, video_url=url)
        own = task_id.removeprefix(self.prefix)
        answer = await self.caller.request_json(
            "GET", self.wire.task_path.format(task_id=quote(own, safe="")),
            what=f"query of image task {own}")
        status, note = self.words.status(get(answer, self.wire.status))
        url = get(answer, self.wire.image_url) if status is TaskStatus.SUCCEEDED else None
        message = str(get(answer, "data.task_status_msg") or get(answer, "message") or "")
        return TaskState(task_id, status, video_url=str(url) if url else None,
                         code=str(get(answer, "data.task_status_code") or ""),
                         message="; ".join(m for m in (note, message) if m), raw=dict(answer))

    # -- find --------------------------------------------------------------------------------

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """A lost submit's picture: the answer kept for this shot since ``since`` (a
        synchronous call), or the image tasks listed within ``LOST_SUBMIT_LANDS`` of it."""
        if self.wire.synchronous:
            return self._kept_since(shot, since)
        if not self.wire.list_path:
            raise NeverListed(f"{self.wire.name}: no list of them is known, so a create whose "
                              "answer was lost cannot be looked up (it may have been paid)",
                              provider=self.caller.name, shot=shot.id, code="ListUnavailable")
        answer = await self.caller.ask(functools.partial(
            self.caller.request_json, "GET", self.wire.list_path, what="image task list",
            shot=shot.id, params=dict(self.wire.list_params)))
        items = get(answer, self.wire.items)
        if not isinstance(items, list):
            raise ListUnavailable(f"image task list: no list at {self.wire.items}",
                                  provider=self.caller.name, shot=shot.id,
                                  code="ListUnavailable")
        found = [str(item["task_id"]) for item in sorted(
            (i for i in items if isinstance(i, dict) and i.get("task_id")
             and self._landed(i, since)), key=lambda i: -float(i["created_at"]))]
        return [await self.caller.ask(functools.partial(self.query, self.prefix + task_id))
                for task_id in found]

    @staticmethod
    def _landed(item: dict[str, Any], since: float) -> bool:
        """Whether a listed task was created where a lost submit's could have been."""
        created = item.get("created_at")
        if not isinstance(created, int | float) or isinstance(created, bool):
            return False
        when = _seconds(float(created))
        return since - CLOCK_SKEW <= when <= since + LOST_SUBMIT_LANDS + CLOCK_SKEW

    def _kept_since(self, shot: CompiledShot, since: float) -> list[TaskState]:
        kept = self._read(f"pictures/{_safe(shot.hash)}.shot.json")
        if isinstance(kept.get("at"), int | float) and kept["at"] >= since \
                and isinstance(kept.get("task_id"), str) and isinstance(kept.get("url"), str):
            self._urls[kept["task_id"]] = kept["url"]
            return [TaskState(kept["task_id"], TaskStatus.SUCCEEDED, video_url=kept["url"])]
        raise NeverListed(
            f"{self.wire.name} answer at once and make no task a list could show: a call whose "
            "answer was lost may have been paid", provider=self.caller.name, shot=shot.id,
            code="PictureUnlisted", adopt_as=None)

    # -- what is kept ------------------------------------------------------------------------

    def _read_url(self, name: str) -> str | None:
        url = self._read(name).get("url")
        return url if isinstance(url, str) and url else None

    def _read(self, name: str) -> dict[str, Any]:
        if self.work_dir is None:
            return {}
        try:
            kept = json.loads((self.work_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return kept if isinstance(kept, dict) else {}

    def _write(self, name: str, data: dict[str, Any]) -> None:
        """``data`` into the work area, atomically; in memory only when it cannot be written."""
        if self.work_dir is None:
            return
        path = self.work_dir / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            state_folder(path.parent)
            write_atomic(path, json.dumps(data).encode(), durable=False)
        except OSError:
            return
