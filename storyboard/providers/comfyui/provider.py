"""Compiled shots into jobs on your own ComfyUI servers: the ``comfyui`` provider, one prompt per GPU.

``provider: {name: comfyui, instances: [URL, ...], workflow: FILE, workflows: {KEY: FILE}}``: each
instance is one ComfyUI server (one GPU; default ``http://127.0.0.1:8188``), each shot is rendered
by its workflow (``workflows`` by the shot's ``episode/shot`` id or its ``model``, else
``workflow``) with the placeholders filled (``comfyui_workflow``). It is free: no consent, no
budget, no ledger (``traits.paid`` off, every price 0).

The task id is the ``prompt_id`` storyboard chooses: a function of the workflow, the shot's hash
and its take. So the runner's journal holds it before anything is sent, a resumed run asks
``/history`` and ``/queue`` for it (never sending again while its server knows it), and a lost
submit is found by its id (a prompt another clone sent, a worker that died, on whichever of the
series' instances knows it). Each instance runs one prompt at a time: a job goes to an instance whose
queue is empty (``Dispatch``). A job its server no longer knows (the server restarted) is sent
again once, from its job file (``comfyui_jobs``), and reported; lost a second time, it fails.
Each instance's ``/ws`` socket, opened with the ``client_id`` the prompts are sent with, tells the
live view each job's node and sampling step and ends the poll's wait when a job is done
(``comfyui_progress``); without it, polling alone does the same more slowly.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from storyboard.errors import (
    ConnectFailed,
    Diagnostic,
    ProblemsFound,
    ProviderError,
    RequestRejected,
    TransportError,
)
from storyboard.language.request import CompiledShot
from storyboard.media import ffmpeg
from storyboard.providers import protocol, stillcopy
from storyboard.providers.base import (
    DEFAULT_MAX_DOWNLOAD,
    BaseProvider,
    Traits,
    asset_refusals,
    refuse_assets,
)
from storyboard.providers.comfyui import check as comfyui_check
from storyboard.providers.comfyui import workflow as wf
from storyboard.providers.comfyui.client import NAME, Instance, first_video, frames_of, status_of
from storyboard.providers.comfyui.dispatch import Dispatch
from storyboard.providers.comfyui.listen import Watch
from storyboard.providers.comfyui.promptlog import Job, Jobs, Throughput
from storyboard.providers.comfyui.settings import ComfySettings
from storyboard.targets import Capabilities, PriceTable, TaskState, TaskStatus, Usage

log = logging.getLogger("storyboard.providers.comfyui")


def prompt_id(cache_key: str, shot: CompiledShot) -> str:
    """The client-chosen prompt id of a shot's take (a UUID, as ComfyUI's own are)."""
    digest = hashlib.sha256(f"{cache_key}:{shot.hash}:take{shot.take}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def upload_name(path: Path) -> str:
    """An uploaded file's name: its content's hash, so the same bytes keep one name everywhere."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
    return f"storyboard-{digest}{path.suffix.lower()}"


class ComfyUIProvider(BaseProvider):
    """Your own GPUs behind ComfyUI; see the module docstring."""

    name = NAME
    # free: no consent, budget or ledger; it lists its jobs
    traits = Traits(paid=False, wire_watched=True, sound=False)  # open Wan weights: silent
    capabilities = Capabilities()
    prices = PriceTable({"480P": 0.0, "720P": 0.0, "1080P": 0.0}, input_video_cap=0.0)

    def __init__(self, settings: ComfySettings, root: Path, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings, self.root = settings, root
        self.cache_key = f"comfyui-{self._workflows_digest()}"
        self._client = protocol.LazyClient(transport, httpx.Timeout(settings.timeout))
        self.instances = [Instance(url, self._client) for url in settings.instances]
        self.dispatch = Dispatch(self.instances)
        state = root / ".storyboard" / NAME
        self.jobs = Jobs(state / "jobs")
        self.throughput = Throughput(state / "throughput.json")
        self.client_id = uuid.uuid4().hex
        self.frames: dict[str, tuple[list[str], float]] = {}  # prompt id: frame URLs, seconds
        self.watches = {i.url: Watch(i.url, self.client_id, lambda: self.on_progress)
                        for i in self.instances}
        self._workflows: dict[Path, wf.Workflow] = {}
        self._info: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"ComfyUIProvider({', '.join(self.settings.instances)})"

    def _workflows_digest(self) -> str:
        digest = hashlib.sha256(str(self.settings.fps).encode())
        for path in sorted({*self.settings.workflows.values(), *filter(None, [
                self.settings.workflow])}):
            digest.update(path.name.encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"missing")
        return digest.hexdigest()[:12]

    # -- checks before the first submit --------------------------------------------------------

    def workflow_path(self, shot: CompiledShot) -> Path:
        return comfyui_check.workflow_path(self.settings, shot)

    def workflow(self, shot: CompiledShot) -> wf.Workflow:
        path = self.workflow_path(shot)
        if path not in self._workflows:
            self._workflows[path] = wf.load_workflow(path)
        return self._workflows[path]

    def preflight(self) -> None:
        """Load every workflow and check it against each answering instance's
        ``/object_info``: before any job is sent (``check_shots`` then checks the shots)."""
        self._load_workflows()
        answers = self._object_infos()
        problems = []
        for url, info in answers.items():
            for workflow in self._workflows.values():
                try:
                    wf.check_nodes(workflow, info, url)
                except ProblemsFound as found:
                    problems += found.diagnostics
        if problems:
            raise ProblemsFound(problems)
        common = set.intersection(*(set(info) for info in answers.values()))
        first = next(iter(answers.values()))
        self._info = {name: first[name] for name in common}

    def _load_workflows(self) -> None:
        """Every workflow the settings name; all their problems at once."""
        problems = comfyui_check.load_all(self.settings, self._workflows)
        if problems:
            raise ProblemsFound(problems)

    def check_shots(self, shots: list[CompiledShot]) -> None:
        """Every shot about to render against its workflow (after ``preflight``): what a shot
        has and its workflow lacks is a located error at the shot. An asset is refused but a
        picture whose image model ComfyUI makes (a board on ``comfyui-image``)."""
        refuse_assets(shots, NAME, NAME)
        wf.check_shots(shots, self.workflow, self.settings.fps, self._info)

    def refused(self, shots: list[CompiledShot]) -> list[Diagnostic]:
        return asset_refusals(shots, NAME, NAME)

    def _object_infos(self) -> dict[str, dict[str, Any]]:
        """Each answering instance's nodes (one that does not answer now is skipped, with a
        warning; none answering is an error)."""
        answers: dict[str, dict[str, Any]] = {}
        with httpx.Client(timeout=self.settings.timeout, verify=protocol.tls()) as client:
            for url in self.settings.instances:
                try:
                    response = client.get(url + "/object_info")
                    response.raise_for_status()
                    data = response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("%s does not answer (%s); its nodes are not checked", url, exc)
                    continue
                if isinstance(data, dict):
                    answers[url] = data
        if not answers:
            raise ProviderError("no ComfyUI instance answers /object_info: start ComfyUI on "
                                + ", ".join(self.settings.instances), provider=NAME)
        return answers

    async def _node_info(self) -> dict[str, Any]:
        if not self._info:
            self._info = await self.instances[0].object_info()
        return self._info

    # -- the Provider interface ----------------------------------------------------------------

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        workflow = self.workflow(shot)
        problems = wf.check_shot(shot, workflow, self.settings.fps, await self._node_info())
        if problems:  # check_shots said so before the run; this guards every other way in
            raise RequestRejected("; ".join(d.format() for d in problems), provider=NAME,
                                  shot=shot.id, code="WorkflowMismatch")
        values = wf.shot_values(shot, self.settings.fps, first_frame)
        task_id = prompt_id(self.cache_key, shot)
        uploads = {name: str(await self._sendable(path, shot))
                   for name, path in values.media.items()}
        job = Job(task_id, f"{shot.episode}/{shot.id}", "", str(workflow.path), values.scalars,
                  uploads, float(shot.request.duration), image=shot.asset is not None)
        await self._send(job, shot.id)
        return task_id

    async def _sendable(self, path: Path, shot: CompiledShot) -> Path:
        """A picture uploaded for a video workflow as its model takes it (``stillcopy.sendable``:
        a 4K board scaled into ``.storyboard/sent/``); a board's references as they are."""
        if shot.asset is not None:
            return path
        return await asyncio.to_thread(stillcopy.sendable, path, shot.request.model,
                                       stillcopy.sent_folder(self.root))

    async def _send(self, job: Job, shot: str) -> None:
        """Choose an instance, upload the media there, write the job file, queue the graph."""
        instance = await self.dispatch.acquire(job.prompt_id, shot)
        try:
            graph = await self._graph(job, instance, shot)
            job.instance = instance.url
            self.jobs.save(job)
            await self.watches[instance.url].follow(job.prompt_id, {
                node_id: str(node.get("class_type")) for node_id, node in graph.items()},
                self.on_progress)  # this copy's hook (``with_hooks``), not the watch's maker's
            await instance.prompt(graph, job.prompt_id, self.client_id, shot)
        except BaseException:
            self.dispatch.release(instance.url, job.prompt_id)
            self._unfollow(job.prompt_id)
            raise

    def _unfollow(self, prompt_id: str) -> None:
        for watch in self.watches.values():
            watch.forget(prompt_id)

    def ended(self, task_id: str) -> asyncio.Event | None:
        """Set when an instance's ``/ws`` says the prompt is done (None: not followed)."""
        for watch in self.watches.values():
            event = watch.ended(task_id)
            if event is not None:
                return event
        return None

    async def _graph(self, job: Job, instance: Instance, shot: str) -> dict[str, Any]:
        path = Path(job.workflow)
        workflow = self._workflows.get(path) or wf.load_workflow(path)
        values = dict(job.values)
        for name, local in job.uploads.items():
            path = Path(local)
            if not path.is_file():
                raise ProviderError(f"{{{{{name}}}}}: {path} is gone", provider=NAME, shot=shot)
            values[name] = await instance.upload(path, upload_name(path), shot)
        return workflow.fill(values, await self._node_info())

    async def query(self, task_id: str) -> TaskState:
        job = self.jobs.get(task_id) or await self._adopt(task_id)
        if job is None:
            return TaskState(task_id, TaskStatus.FAILED, code="NotFound",
                             message="no job file for this prompt: it was never sent from here")
        state = await self._look(job)
        if state is None and job.canceled:
            return TaskState(task_id, TaskStatus.CANCELED, message="canceled by storyboard")
        return state if state is not None else await self._lost(job)

    async def _look(self, job: Job) -> TaskState | None:
        """What the job's server says of it: running, waiting, finished, or None (unknown).
        The queue is asked first: a job leaves it for the history at once, so a job in neither
        (in that order) is one the server does not know."""
        instance = self._instance(job.instance)
        running, pending = await instance.queue()
        if job.prompt_id in running:
            return TaskState(job.prompt_id, TaskStatus.RUNNING)
        if job.prompt_id in pending:
            return TaskState(job.prompt_id, TaskStatus.PENDING)
        entry = await instance.history(job.prompt_id)
        return self._finished(job, instance, entry) if entry is not None else None

    async def _adopt(self, task_id: str) -> Job | None:
        """A prompt sent from another clone (a worker that died, its task taken over through the
        team ledger), found by its id on one of this series' instances; None when none knows it.
        Its job file is written here; it is never sent again from here (no graph to send)."""
        for instance in self.instances:
            running, pending = await instance.queue()
            if task_id in running or task_id in pending or (
                    await instance.history(task_id) is not None):
                job = Job(task_id, "", instance.url, "", {}, requeued=1)
                self.jobs.save(job)
                return job
        return None

    def _instance(self, url: str) -> Instance:
        return next((i for i in self.instances if i.url == url), None) or Instance(
            url, self._client)

    def _finished(self, job: Job, instance: Instance, entry: dict[str, Any]) -> TaskState:
        self.dispatch.release(instance.url, job.prompt_id)
        self._unfollow(job.prompt_id)
        word, message, times = status_of(entry)
        note = "; ".join(job.notes)
        if word == "interrupted":
            return TaskState(job.prompt_id, TaskStatus.CANCELED, message=message or note)
        if word != "success":
            return TaskState(job.prompt_id, TaskStatus.FAILED, code="ExecutionError",
                             message=message or "the prompt failed")
        if job.image:
            return self._picture(job, instance, entry, note)
        item = first_video(entry)
        frames = [] if item is not None else frames_of(entry)
        if item is None and not frames:
            return TaskState(job.prompt_id, TaskStatus.FAILED, code="NoVideo",
                             message="the workflow saved no video (end it with SaveVideo, "
                                     "VHS_VideoCombine or SaveImage frames)")
        if frames:  # image frames: joined into a video of the shot's length when downloaded
            self.frames[job.prompt_id] = ([instance.view_url(f) for f in frames], job.seconds)
        if "execution_start" in times and "execution_success" in times:
            self.throughput.add(instance.url, times["execution_success"] -
                                times["execution_start"], job.seconds)
        url = instance.view_url(item if item is not None else frames[0])
        return TaskState(job.prompt_id, TaskStatus.SUCCEEDED, video_url=url,
                         usage=Usage(output_seconds=job.seconds), message=note)

    def _picture(self, job: Job, instance: Instance, entry: dict[str, Any],
                 note: str) -> TaskState:
        """A picture job's result: the first image its workflow saved."""
        frames = frames_of(entry)
        if not frames:
            return TaskState(job.prompt_id, TaskStatus.FAILED, code="NoImage",
                             message="the workflow saved no image (end it with SaveImage)")
        return TaskState(job.prompt_id, TaskStatus.SUCCEEDED, video_url=instance.view_url(
            frames[0]), usage=Usage(output_seconds=0.0), message=note)

    async def _lost(self, job: Job) -> TaskState:
        """The job's server no longer knows it (a restart): send it again once (it costs
        nothing), saying so; a second loss fails the shot."""
        self.dispatch.release(job.instance, job.prompt_id)
        self._unfollow(job.prompt_id)
        if job.requeued >= 1:
            return TaskState(job.prompt_id, TaskStatus.FAILED, code="LostJob",
                             message=f"{job.instance} lost this job again after it was "
                                     "re-queued once")
        note = f"re-queued: {job.instance} no longer knew the job (restarted?)"
        log.warning("shot %s: %s", job.shot, note)
        job.requeued += 1
        job.notes.append(note)
        self.jobs.save(job)
        await self._send(job, job.shot)
        return TaskState(job.prompt_id, TaskStatus.PENDING, message=note)

    async def cancel(self, task_id: str) -> None:
        job = self.jobs.get(task_id)
        if job is None:
            return
        instance = self._instance(job.instance)
        job.canceled = True
        self.jobs.save(job)
        running, pending = await instance.queue()
        if task_id in pending:
            await instance.delete(task_id)
        elif task_id in running:
            await instance.interrupt(task_id)

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """A lost submit's prompt, asked for by its id on the server its job file names. No
        job file, or a server that does not know it: it was never queued, so none. Its server
        not answering is an error (asked again), never "none"."""
        wanted = prompt_id(self.cache_key, shot)
        try:
            job = self.jobs.get(wanted) or await self._adopt(wanted)
            if job is None or not job.instance:
                return []
            state = await self._look(job)
        except ConnectFailed as exc:
            raise TransportError(str(exc), provider=NAME, shot=shot.id) from exc
        return [state] if state is not None else []

    async def download(self, state: TaskState, dest: Path, *,
                       limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
        if not state.video_url:
            raise ProviderError(f"task {state.task_id} has no video", provider=NAME)
        if state.task_id in self.frames:
            return await self._download_frames(state.task_id, dest, limit)
        await protocol.download_to(self._client(), state.video_url, dest, provider=NAME,
                                   what=f"download of {state.task_id}", key=None,
                                   timeout=httpx.Timeout(max(self.settings.timeout, 300.0)),
                                   limit=limit)

    async def _download_frames(self, task_id: str, dest: Path, limit: int) -> None:
        """A workflow's image frames, each downloaded, joined into a silent video as long as the
        shot (its frame rate: frames over seconds); ``limit`` bytes for all of them together."""
        urls, seconds = self.frames[task_id]
        name = parse_qs(urlsplit(urls[0]).query).get("filename", ["frame.png"])[0]
        with tempfile.TemporaryDirectory(dir=dest.parent) as folder:
            paths = [Path(folder) / f"{n:06d}{Path(name).suffix}" for n in range(len(urls))]
            for url, path in zip(urls, paths, strict=True):
                await protocol.download_to(self._client(), url, path, provider=NAME,
                                           what=f"download of {task_id}", key=None,
                                           timeout=httpx.Timeout(self.settings.timeout),
                                           limit=limit)
                limit -= path.stat().st_size
            fps = len(paths) / seconds if seconds > 0 else 16.0
            await asyncio.to_thread(ffmpeg.frames_video, paths, fps, dest)

    async def aclose(self) -> None:
        for watch in self.watches.values():
            await watch.aclose()
        await self._client.aclose()

    # -- for plans -----------------------------------------------------------------------------

    def plan_note(self, seconds: float) -> str:
        """The plan's price line: free, and the wall time ``seconds`` of video should take."""
        count = len(self.instances)
        head = f"free (your GPUs): {count} instance{'s' if count != 1 else ''}"
        wall = self.throughput.wall_seconds(list(self.settings.instances), seconds)
        if seconds <= 0:
            return head
        if wall is None:
            return f"{head}; wall time unknown until they have rendered a shot"
        return f"{head}; about {_duration(wall)} of wall time (their recent throughput)"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def from_manifest_block(block: Mapping[str, Any], root: Path) -> ComfyUIProvider:
    """The provider a series' ``provider:`` block describes."""
    return ComfyUIProvider(ComfySettings.from_mapping(block, root), root)
