"""Accepted submissions into living tasks: the emulated service behind the HTTP routes.

A task waits PENDING, runs, then renders its result and turns SUCCEEDED (or FAILED, UNKNOWN, stuck
RUNNING, as a ``task:`` fault says); while a test holds the service (``going`` cleared) a task
that would render stays RUNNING until it is let go. Each task is an asyncio task on the server's
loop; the picture is drawn in a worker thread. Answers are built here in the service's own
shapes (spec section 1).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import shutil
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from storyboard import tls
from storyboard.emulator.cast.assets import ImageTasks
from storyboard.emulator.cast.voices import Voices
from storyboard.emulator.config import EmulatorConfig
from storyboard.emulator.faults import (
    CAST_ENDPOINTS,
    DRIFT_KINDS,
    FLAW_KINDS,
    UNUSABLE_KINDS,
    FaultPlan,
)
from storyboard.emulator.render import Renderer, RenderFn
from storyboard.emulator.state import (
    Clock,
    Stats,
    Task,
    TaskTable,
    body_hash,
    new_id,
    prompt_hash,
    run_task,
    stats_snapshot,
)
from storyboard.emulator.uploads import UploadStore
from storyboard.emulator.validate import (
    IMAGE_KINDS,
    KEEP_LENGTH,
    ApiError,
    Submission,
    invalid,
    validate_submit,
)
from storyboard.files import write_atomic
from storyboard.targets.video.models import Model, family, model_of

UNFETCHED_VIDEO_SECONDS = 5  # a reference video behind an http(s) URL is not fetched: its guess
INPUT_VIDEO_KINDS = ("reference_video", "first_clip", "source_video")  # input video the service counts
LIST_WINDOW = 86400
MAX_PAGE_SIZE = 100
class Service:
    """Tasks, uploads, counters and the clock of one emulator instance."""

    def __init__(self, config: EmulatorConfig, *, render: RenderFn | None = None) -> None:
        self.config = config
        self.faults: FaultPlan = config.faults
        if config.seed is not None:
            self.faults.reseed(config.seed)
        self.clock = Clock(config.utc_offset_hours)
        self.stats = Stats()
        self.table = TaskTable(self.clock, config.task_ttl)
        self._own_dir = config.work_dir is None
        self.work_dir = Path(tempfile.mkdtemp(prefix="storyboard-emulator-")) \
            if config.work_dir is None else config.work_dir
        self.uploads = UploadStore(self.work_dir / "uploads", self.clock,
                                   max_file_size_mb=config.max_file_size_mb)
        self.renderer = Renderer(self.work_dir / "results", self.stats,
                                 plain=config.plain_results, render=render)
        self._url_secret = secrets.token_bytes(16)
        self.images = ImageTasks(config, self.clock, self.faults, self.stats,
                                 self.work_dir / "cast", self._file_of)
        self.voices = Voices(self.images)
        self._running: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        # A service of one task at a time (videoretalk): its turns, by account and model; and
        # the most of its tasks ever running at once, by model.
        self._turns: dict[tuple[str, str], asyncio.Semaphore] = {}
        self.running: Counter[str] = Counter()
        self.peak_running: Counter[str] = Counter()
        self.waited = 0  # tasks that waited for their turn
        self.going = asyncio.Event()  # cleared: no task renders until it is set again (a test's)
        self.going.set()

    def _file_of(self, url: str) -> Path | None:
        """A reference's file here: an upload, or the picture a ``data:`` URI carries."""
        stored = self.uploads.lookup(url) or self.uploads.decoded(url)
        return stored.path if stored is not None else None

    # --- lifecycle of the whole service ---------------------------------------------------

    def started(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def stopped(self) -> None:
        for job in list(self._running):
            job.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.images.stop()
        if self._own_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def snapshot(self) -> dict[str, Any]:
        return {**stats_snapshot(self.stats, self.table), "cast": self.cast_snapshot(),
                "chat": {"requests": self.stats.requests.get("chat", 0)},
                "queued": {"peak_running": dict(self.peak_running), "waited": self.waited}}

    def cast_snapshot(self) -> dict[str, Any]:
        """Requests to the cast's routes, and what was billed: images, voices, characters."""
        return {"requests": {name: self.stats.requests.get(name, 0) for name in CAST_ENDPOINTS},
                "images": self.images.images, "voices": self.voices.created,
                "characters": self.voices.characters, "languages": dict(self.voices.languages)}

    # --- submit ----------------------------------------------------------------------------

    def known_upload(self, url: str, model: str) -> bool:
        """A file uploaded under a policy for ``model`` (or another snapshot of it)."""
        stored = self.uploads.lookup(url)
        return stored is not None and family(stored.model) == family(model)

    def submit(self, body: object, *, oss_resolve: bool, request_id: str,
               with_video: int | None = None, account: str = "") -> Task:
        """Validate, create and start a task; count it as a paid submission. ``with_video``: a
        gateway's own longest shot with a reference video (its seed's), else the model's.
        ``account`` is a digest of the submitting key: its tasks in flight are bounded by
        ``max_in_flight``."""
        sub = validate_submit(body, oss_resolve=oss_resolve, known_upload=self.known_upload,
                              with_video=with_video)
        assert isinstance(body, dict)  # validate_submit refuses anything else
        self._admit(account)
        fault = self.faults.take("task")
        if fault is not None:
            self.stats.faults[str(fault)] += 1
        task = Task(new_id(), request_id, body, sub, self.clock.now(),
                    fault=fault.tag if fault else None, account=account)
        self.table.add(task)
        self._count_in(account)
        self.stats.submissions[body_hash(body)] += 1
        self.stats.prompts[prompt_hash(sub.prompt)] += 1
        job = asyncio.get_running_loop().create_task(self._run(task))
        self._running.add(job)
        job.add_done_callback(self._running.discard)
        return task

    async def _run(self, task: Task) -> None:
        limit = self.model(task.submission).in_flight
        if limit is None:
            await self._lived(task)
            return
        model = family(task.submission.model)
        turn = self._turns.setdefault((task.account, model), asyncio.Semaphore(limit))
        self.waited += turn.locked()
        async with turn:  # PENDING while another task of the model runs: it queues
            self.running[model] += 1
            self.peak_running[model] = max(self.peak_running[model], self.running[model])
            try:
                await self._lived(task)
            finally:
                self.running[model] -= 1

    async def _lived(self, task: Task) -> None:
        await run_task(task, self.config.latency, self.config.pending_share, self.clock,
                       self._finish, lambda: self._let_go(task))

    async def _let_go(self, task: Task) -> None:
        """The task's result, once the service is not held (it stays RUNNING meanwhile)."""
        await self.going.wait()
        await self._produce(task)

    async def _produce(self, task: Task) -> None:
        sub = task.submission
        media: dict[str, Path] = {}
        digests: dict[str, str] = {}
        for url in [*sub.oss_urls, *(m["url"] for m in sub.media)]:
            stored = self.uploads.lookup(url) or self.uploads.decoded(url)
            if stored is not None:
                media[url], digests[url] = stored.path, stored.sha256
        problem = await self._file_problem(sub, media)
        if problem is not None:  # the model's rule for this kind of file (unpaid)
            self._finish(task, "FAILED", "InvalidParameter", problem)
            return
        if sub.duration == KEEP_LENGTH and (self.model(sub).keeps_length
                                            or "edit" in self.model(sub).task_types):
            media.update(await self._fetched(sub, media))
            sub = task.submission = await self._kept_length(sub, media)
        if self.model(sub).keeps_framing:  # a pass: the take's size (its ratio: the backdrop's)
            media.update(await self._fetched(sub, media))
            sub = task.submission = await self._kept_framing(sub, media)
        try:
            drift = task.fault if task.fault in DRIFT_KINDS else ""
            rendered = await self.renderer.render(task.body, sub, media, digests, drift)
            if task.fault in FLAW_KINDS:
                rendered = await self.renderer.flawed(rendered, task.fault)
            if task.fault in UNUSABLE_KINDS:  # billed as rendered: its usage is the render's
                rendered = await self.renderer.unusable(rendered, task.fault)
            inputs = await self._input_video_seconds(sub, media)
        except Exception as exc:  # any render failure is the service's internal error
            self._finish(task, "FAILED", "InternalError", f"rendering failed: {exc}")  # the whole cause
            return
        task.video = rendered.path
        task.usage = self._usage(sub, rendered.width, rendered.height, inputs)
        self._finish(task, "SUCCEEDED")

    def _finish(self, task: Task, status: str, code: str = "", message: str = "") -> None:
        now = self.clock.now()
        if task.ended is None:
            self.stats.in_flight[task.account] -= 1
            self.stats.task_seconds += now - task.created
            self.stats.tasks_ended += 1
        task.status, task.code, task.message = status, code, message
        task.ended = now

    def _admit(self, account: str) -> None:
        """Refuse a submit past the account's tasks in flight, as the service throttles."""
        limit = self.config.max_in_flight
        if limit is not None and self.stats.in_flight[account] >= limit:
            self.stats.throttled += 1
            raise ApiError(429, "Throttling.RateQuota",
                           "Requests rate limit exceeded, please try again later.",
                           {"Retry-After": f"{self.config.retry_after:g}"})

    def _count_in(self, account: str) -> None:
        self.stats.in_flight[account] += 1
        peak = self.stats.peak_in_flight
        peak[account] = max(peak[account], self.stats.in_flight[account])

    async def _file_problem(self, sub: Submission, media: dict[str, Path]) -> str | None:
        """What an uploaded first clip or driving audio breaks of its model's file rules, or an
        uploaded picture of its ``image_rule`` (known once the file is read; a file behind an
        http(s) URL is not fetched)."""
        for index, item in enumerate(sub.media):
            path = media.get(item["url"])
            problem = await self._one_file(self.model(sub), item["type"], path) if path else None
            if problem is not None:
                return f"input.media[{index}] ({item['type']}): {problem}"
        return None

    async def _one_file(self, model: Model, kind: str, path: Path) -> str | None:
        rule, size = model.file_rules.get(kind), path.stat().st_size
        if rule is not None:
            return rule.problem(await self.renderer.seconds(path), size)
        if model.image_rule is not None and kind in IMAGE_KINDS:
            return model.image_rule.problem(*await self.renderer.pixels(path), size)
        return None

    async def _kept_length(self, sub: Submission, media: dict[str, Path]) -> Submission:
        """``duration`` 0: the edited video's whole seconds, within the model's range."""
        caps = self.model(sub).caps
        seconds = int(await self._input_video_seconds(sub, media))
        return replace(sub, duration=max(caps.min_duration, min(seconds, caps.max_duration)))

    async def _kept_framing(self, sub: Submission, media: dict[str, Path]) -> Submission:
        """The resolution whose short side is the input video's (a 1280x720 take: 720P)."""
        path = next((media[m["url"]] for m in sub.media
                     if m["type"] in INPUT_VIDEO_KINDS and m["url"] in media), None)
        if path is None:
            return sub
        short = min(await self.renderer.pixels(path))
        tiers = [r for r in self.model(sub).caps.resolutions if r[:-1].isdigit()]
        if not short or not tiers:
            return sub
        return replace(sub, resolution=min(tiers, key=lambda r: abs(int(r[:-1]) - short)))

    async def _fetched(self, sub: Submission, media: dict[str, Path]) -> dict[str, Path]:
        """The edited video behind an http(s) URL (a gateway's), fetched to know its length; one
        that cannot be fetched is left to the guess."""
        found: dict[str, Path] = {}
        for item in sub.media:
            url = item["url"]
            if item["type"] in INPUT_VIDEO_KINDS and url not in media and \
                    url.startswith(("http://", "https://")):
                try:
                    async with httpx.AsyncClient(timeout=10.0, verify=tls.context()) as client:
                        answer = await client.get(url)
                except httpx.HTTPError:
                    continue
                if answer.status_code == 200:
                    path = self.work_dir / f"fetched-{hashlib.sha256(url.encode()).hexdigest()}"
                    write_atomic(path, answer.content, durable=False)
                    found[url] = path
        return found

    async def _input_video_seconds(self, sub: Submission, media: dict[str, Path]) -> float:
        total = 0.0
        for item in sub.media:
            if item["type"] not in INPUT_VIDEO_KINDS:
                continue
            path = media.get(item["url"])
            total += await self.renderer.seconds(path) if path else UNFETCHED_VIDEO_SECONDS
        return total

    def _usage(self, sub: Submission, width: int, height: int, inputs: float) -> dict[str, Any]:
        model = self.model(sub)
        ratio = next((r for (res, r), size in model.caps.sizes.items()
                      if res == sub.resolution and size == (width, height)), sub.ratio)
        # Input video counts as the service bills it: wan2.7-r2v at most 5 s of it, wan3.0-video
        # all of it (its references hold at most 15 s): the model's list-price cap says which.
        input_seconds = min(round(inputs), round(model.price("intl").input_video_cap))
        given, made = model.usage_names  # as the model's answers name them
        if not given:  # billed by the output alone (videoretalk): its seconds, its ratio's word
            return {made: sub.duration, "video_ratio": "standard"}
        return {"duration": input_seconds + sub.duration, given: input_seconds,
                made: sub.duration, "video_count": 1,
                "SR": int(sub.resolution.removesuffix("P").removesuffix("K")), "ratio": ratio}

    @staticmethod
    def model(sub: Submission) -> Model:
        model = model_of(sub.model)
        assert model is not None  # validate_submit refuses unknown models
        return model

    # --- query, cancel, list ---------------------------------------------------------------

    def _sign(self, task_id: str, expires: int) -> str:
        return hmac.new(self._url_secret, f"{task_id}:{expires}".encode(),
                        hashlib.sha256).hexdigest()[:32]

    def video_url(self, task: Task, origin: str) -> str:
        expires = int((task.ended or self.clock.now()) + self.config.result_ttl)
        return (f"{origin}/results/{task.task_id}.mp4?Expires={expires}"
                f"&OSSAccessKeyId=emulator&Signature={self._sign(task.task_id, expires)}")

    def query(self, task_id: str, origin: str) -> dict[str, Any]:
        task = self.table.get(task_id)
        if task is None:
            return {"task_id": task_id, "task_status": "UNKNOWN"}
        output: dict[str, Any] = {
            "task_id": task.task_id, "task_status": task.status,
            "submit_time": self.clock.stamp(task.created),
            "scheduled_time": self.clock.stamp(task.scheduled),
            "end_time": self.clock.stamp(task.ended),
            "orig_prompt": task.submission.prompt}
        output = {k: v for k, v in output.items() if v is not None}
        if task.status == "SUCCEEDED":
            output["video_url"] = self.video_url(task, origin)
        if task.status == "FAILED":
            output.update(code=task.code, message=task.message)
        return output

    def cancel(self, task_id: str) -> None:
        task = self.table.get(task_id)
        if task is None:
            raise ApiError(400, "UnsupportedOperation", f"Task {task_id} does not exist.")
        if task.status != "PENDING":
            raise ApiError(400, "UnsupportedOperation",
                           f"Failed to cancel the task, which is not in PENDING status "
                           f"(status: {task.status}).")
        self._finish(task, "CANCELED")

    def _window(self, query: dict[str, str]) -> tuple[float, float]:
        now = math.floor(self.clock.now())
        try:
            end = self.clock.parse_compact(query["end_time"]) if query.get("end_time") else now
            start = self.clock.parse_compact(query["start_time"]) if query.get("start_time") \
                else end - LIST_WINDOW
        except ValueError:
            raise invalid("start_time and end_time must be YYYYMMDDhhmmss") from None
        if end < start or end - start > LIST_WINDOW:
            raise invalid("The time window must be at most 24 hours, start_time before end_time.")
        return start, end

    def _page(self, query: dict[str, str], name: str, default: int, top: int) -> int:
        raw = query.get(name) or str(default)
        if not raw.isdigit() or not 1 <= int(raw) <= top:
            raise invalid(f"{name} must be an integer in 1..{top}")
        return int(raw)

    def listing(self, query: dict[str, str]) -> dict[str, Any]:
        """The list answer without ``request_id``: data (or ``tasks``), total, total_page,
        page_no, page_size."""
        start, end = self._window(query)
        status = query.get("status") or None
        if status is not None and status not in ("PENDING", "RUNNING", "SUCCEEDED", "FAILED",
                                                 "CANCELED"):
            raise invalid("status must be PENDING, RUNNING, SUCCEEDED, FAILED or CANCELED")
        page_no = self._page(query, "page_no", 1, 10**6)
        page_size = self._page(query, "page_size", 10, MAX_PAGE_SIZE)
        model = query.get("model_name") or None
        # Every asynchronous task of the account: videos and the cast's image tasks alike.
        tasks = [(t.created, t.task_id, self._listed(t))
                 for t in self.table.listing(start, end, model, status)]
        tasks += [(t.created, t.task_id, self.images.listed(t))
                  for t in self.images.listing(start, end, model, status)]
        tasks.sort(key=lambda item: (item[0], item[1]), reverse=True)
        shown = tasks[(page_no - 1) * page_size: page_no * page_size]
        return {self.config.list_key: [item for _, _, item in shown], "total": len(tasks),
                "total_page": math.ceil(len(tasks) / page_size), "page_no": page_no,
                "page_size": page_size}

    def _listed(self, task: Task) -> dict[str, Any]:
        return {"task_id": task.task_id, "status": task.status, "model_name": task.submission.model,
                "gmt_create": self.clock.stamp(task.created),
                "start_time": self.clock.stamp(task.scheduled),
                "end_time": self.clock.stamp(task.ended), "request_id": task.request_id}

    # --- results ---------------------------------------------------------------------------

    def result(self, task_id: str, expires: str, signature: str) -> Path | None:
        """The result file a signed URL names, or None; PermissionError if unsigned or expired."""
        if not expires.isdigit() or not hmac.compare_digest(
                self._sign(task_id, int(expires)), signature):
            raise PermissionError("The request signature we calculated does not match.")
        if self.clock.now() > int(expires):
            raise PermissionError("Request has expired.")
        task = self.table.tasks.get(task_id)
        return task.video if task is not None and task.status == "SUCCEEDED" else None
