"""Image-generation bodies into image tasks: the cast's reference pictures, checked and drawn.

``POST {base}/services/aigc/image-generation/generation`` (asynchronous only) takes
``{"model", "input": {"messages": [{"role": "user", "content": [{"text"}, {"image"}...]}]},
"parameters": {"size": "W*H", "n", "seed", "watermark", "enable_sequential", "thinking_mode"}}``
and answers ``output.task_id``; the task is polled on ``/tasks/{id}`` like a video and, once
SUCCEEDED, answers ``output.choices[0].message.content[*].image`` (PNG URLs served here, signed,
valid 24 h) and ``usage.image_count``. Every rule comes from ``storyboard.targets.cast.assets``.
``size`` and ``n`` are required here (the service has defaults, which sources disagree on: a
client that leaves them out is caught). Tasks take the same ``task:`` faults as videos.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from storyboard.emulator.cast import standins as cast_media
from storyboard.emulator.config import EmulatorConfig
from storyboard.emulator.faults import DRIFT_KINDS, FaultPlan
from storyboard.emulator.render import draw_figures
from storyboard.emulator.state import Clock, Stats, new_id, run_task
from storyboard.emulator.validate import ApiError, invalid
from storyboard.files import write_atomic
from storyboard.targets.cast.assets import ImageModel, image_model_of

SIZE = re.compile(r"^([1-9][0-9]{1,4})\*([1-9][0-9]{1,4})$")
# A tier word is a pixel budget (its side squared) in the frame's ratio: the first reference's
# when there is one (an edit keeps its picture's shape), else square (text-to-image), each side
# at most the model's limit.
TIERS = {"1K": 1024, "2K": 2048, "4K": 4096}
DATA_URI = re.compile(r"^data:image/(png|jpeg|jpg|bmp|webp);base64,(.*)$", re.DOTALL)
Known = Callable[[str, str], bool]  # (oss:// url, model): uploaded for that model
FileOf = Callable[[str], "Path | None"]  # a reference's URL: its file here (an upload, a data: URI)
SizeOf = Callable[[str], "tuple[int, int] | None"]  # an uploaded picture's width and height


@dataclass(frozen=True)
class ImageRequest:
    """An accepted image-generation body."""

    model: str
    prompt: str
    images: tuple[str, ...]
    width: int
    height: int
    n: int
    seed: int | None


@dataclass
class ImageTask:
    task_id: str
    request: ImageRequest
    created: float
    fault: str | None = None
    status: str = "PENDING"
    scheduled: float | None = None
    ended: float | None = None
    code: str = ""
    message: str = ""
    files: list[Path] = field(default_factory=list)
    request_id: str = field(default_factory=new_id)  # of the submit that made it


# --- the body --------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _model(body: Mapping[str, Any]) -> ImageModel:
    name = body.get("model")
    if not name:
        raise ApiError(400, "BadRequest.EmptyModel", "Required parameter model is missing.")
    model = image_model_of(name) if isinstance(name, str) else None
    if model is None:
        raise invalid("Model not exist.")
    return model


def _content(body: Mapping[str, Any]) -> list[Any]:
    data = body.get("input")
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "BadRequest.EmptyInput", "Required parameter input.messages is missing.")
    if len(messages) != 1:
        raise invalid("input.messages must hold exactly one message")
    message = messages[0]
    if not isinstance(message, dict) or message.get("role") != "user":
        raise invalid("input.messages[0] must be an object with role user")
    content = message.get("content")
    if not isinstance(content, list) or not content:
        raise invalid("input.messages[0].content must be a non-empty array")
    return content


def _check_data_uri(model: ImageModel, where: str, url: str) -> None:
    match = DATA_URI.match(url)
    if match is None:
        raise ApiError(400, "InvalidURL", f"{where}: a data URI must be data:image/"
                       f"({'|'.join(model.image_formats)});base64,...")
    try:
        raw = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{where}: the data URI is not valid base64") from None
    if len(raw) > model.image_max_bytes:
        raise invalid(f"{where}: the image is larger than {model.image_max_bytes // 2**20} MB")
    size = cast_media.png_size(raw) if match.group(1) == "png" else None
    if size is not None:
        _check_picture(model, where, *size)


def _check_picture(model: ImageModel, where: str, width: int, height: int, alpha: bool) -> None:
    low, high = model.image_sides
    if not (low <= width <= high and low <= height <= high):
        raise invalid(f"{where}: each side must be {low} to {high} pixels, not {width}x{height}")
    if max(width, height) / min(width, height) > model.image_max_ratio:
        raise invalid(f"{where}: the ratio must be between 1:8 and 8:1")
    if alpha:
        raise invalid(f"{where}: a PNG must have no alpha channel")


def _image(model: ImageModel, where: str, url: object) -> str:
    if not isinstance(url, str) or not url:
        raise invalid(f"{where}.image must be a non-empty URL string")
    if url.startswith("data:"):
        _check_data_uri(model, where, url)
    elif not url.startswith(("http://", "https://", "oss://")):
        raise ApiError(400, "InvalidURL", f"{where}.image: the URL must be http(s), oss:// or "
                       "data:")
    return url


def _items(model: ImageModel, content: list[Any]) -> tuple[str, tuple[str, ...]]:
    texts: list[str] = []
    images: list[str] = []
    for index, item in enumerate(content):
        where = f"input.messages[0].content[{index}]"
        if not isinstance(item, dict) or len({"text", "image"} & item.keys()) != 1:
            raise invalid(f"{where} must be an object with either text or image")
        if "text" in item:
            texts.append(_text(model, where, item["text"]))
        else:
            images.append(_image(model, where, item["image"]))
    if len(texts) != 1:
        raise ApiError(400, "BadRequest.EmptyInput", "The message must hold exactly one text "
                       f"item (the prompt); found {len(texts)}.")
    if len(images) > model.max_references:
        raise invalid(f"input.messages[0].content has {len(images)} images; at most "
                      f"{model.max_references}")
    return texts[0], tuple(images)


def _text(model: ImageModel, where: str, text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "BadRequest.EmptyInput", f"{where}.text must be a non-empty string")
    if len(text) > model.prompt_limit:
        raise invalid(f"{where}.text is longer than {model.prompt_limit} characters")
    return text


def _size(model: ImageModel, params: Mapping[str, Any], images: tuple[str, ...],
          sequential: bool, size_of: SizeOf) -> tuple[int, int]:
    raw = params.get("size")
    if raw is None:
        raise invalid("parameters.size is required here: send it as W*H, e.g. 2048*1152")
    match = SIZE.match(raw) if isinstance(raw, str) else None
    top = model.side_limit(len(images), sequential)
    if isinstance(raw, str) and raw in TIERS:
        width, height = tiered(TIERS[raw], _frame(images, size_of), top)
    elif match is None:
        raise invalid("parameters.size must be W*H (e.g. 2048*1152) or 1K, 2K")
    else:
        width, height = int(match.group(1)), int(match.group(2))
    if not (model.min_side <= width <= top and model.min_side <= height <= top):
        raise invalid(f"parameters.size {width}*{height} is out of range: each side "
                      f"{model.min_side} to {top} for this request")
    return width, height


def tiered(side: int, frame: tuple[int, int] | None, top: int) -> tuple[int, int]:
    """A tier's picture: ``side``² pixels in ``frame``'s ratio (square without one), sides in
    multiples of 16, the longer one at most ``top``."""
    ratio = frame[0] / frame[1] if frame else 1.0
    width, height = side * math.sqrt(ratio), side / math.sqrt(ratio)
    scale = min(1.0, top / max(width, height))
    return (max(16, round(width * scale / 16) * 16), max(16, round(height * scale / 16) * 16))


def _frame(images: tuple[str, ...], size_of: SizeOf) -> tuple[int, int] | None:
    """The first reference picture's width and height, when it is known (a PNG)."""
    if not images:
        return None
    match = DATA_URI.match(images[0])
    if match is None:
        return size_of(images[0])
    found = cast_media.png_size(base64.b64decode(match.group(2)))
    return (found[0], found[1]) if found else None


def _flags(model: ImageModel, params: Mapping[str, Any]) -> bool:
    """Check the boolean switches; return ``enable_sequential``."""
    names = ("watermark", "enable_sequential", *(("thinking_mode",) if model.thinking_mode else ()))
    for name in names:
        if name in params and not isinstance(params[name], bool):
            raise invalid(f"parameters.{name} must be a boolean")
    return params.get("enable_sequential") is True


def _count(model: ImageModel, params: Mapping[str, Any], sequential: bool) -> int:
    n, top = params.get("n"), model.most_images(sequential)
    if n is None:
        raise invalid("parameters.n is required here: each image is billed")
    if not _is_int(n) or not 1 <= n <= top:
        raise invalid(f"parameters.n must be an integer in 1..{top}")
    return int(n)


def _seed(model: ImageModel, params: Mapping[str, Any]) -> int | None:
    seed = params.get("seed")
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= model.seed_max):
        raise invalid(f"parameters.seed must be an integer in 0..{model.seed_max}")
    return None if seed is None else int(seed)


def _oss(images: tuple[str, ...], model: str, resolve: bool, known: Known) -> None:
    for url in (u for u in images if u.startswith("oss://")):
        if not resolve:
            raise invalid("oss:// URLs need the header X-DashScope-OssResourceResolve: enable")
        if not known(url, model):
            raise ApiError(400, "InvalidURL", f"{url}: no such uploaded file for {model}")


def validate_image(body: object, *, oss_resolve: bool, known_upload: Known,
                   size_of: SizeOf = lambda url: None) -> ImageRequest:
    """Check an image-generation body as the documents describe; raise ApiError otherwise."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    model = _model(body)
    prompt, images = _items(model, _content(body))
    params = body.get("parameters")
    if not isinstance(params, dict):
        raise invalid("parameters must be an object with size and n")
    sequential = _flags(model, params)
    width, height = _size(model, params, images, sequential, size_of)
    request = ImageRequest(model.id, prompt, images, width, height,
                           _count(model, params, sequential), _seed(model, params))
    _oss(images, model.id, oss_resolve, known_upload)
    return request


# --- the tasks -------------------------------------------------------------------------------


class ImageTasks:
    """Accepted image tasks: their lifecycle, their pictures and the answers about them."""

    def __init__(self, config: EmulatorConfig, clock: Clock, faults: FaultPlan, stats: Stats,
                 out_dir: Path, file_of: FileOf = lambda url: None) -> None:
        self.config, self.clock, self.faults, self.stats = config, clock, faults, stats
        self.out_dir = out_dir
        self.file_of = file_of
        self.tasks: dict[str, ImageTask] = {}
        self.images = 0  # pictures drawn and billed
        self._secret = secrets.token_bytes(16)
        self._running: set[asyncio.Task[None]] = set()
        self._drawing: set[asyncio.Future[list[Path]]] = set()

    def submit(self, request: ImageRequest) -> ImageTask:
        fault = self.faults.take("task")
        if fault is not None:
            self.stats.faults[str(fault)] += 1
        task = ImageTask(new_id(), request, self.clock.now(), fault.tag if fault else None)
        self.tasks[task.task_id] = task
        job = asyncio.get_running_loop().create_task(self._run(task))
        self._running.add(job)
        job.add_done_callback(self._running.discard)
        return task

    async def stop(self) -> None:
        jobs: list[asyncio.Future[Any]] = [*self._running, *self._drawing]
        for job in jobs:
            job.cancel()
        await asyncio.gather(*self._running, *self._drawing, return_exceptions=True)

    async def _run(self, task: ImageTask) -> None:
        # Drawn while the task waits out its latency (a service renders during it), so a task
        # ends after its latency and not after its latency and its drawing too; billed only if
        # it ends well (``_produce``).
        drawing = asyncio.ensure_future(self._pictures(task.request, task.fault))
        drawing.add_done_callback(_quiet)
        self._drawing.add(drawing)
        drawing.add_done_callback(self._drawing.discard)
        await run_task(task, self.config.latency, self.config.pending_share, self.clock,
                       self._finish, lambda: self._produce(task, drawing))

    async def _produce(self, task: ImageTask, drawing: asyncio.Future[list[Path]]) -> None:
        task.files = await drawing
        self.images += len(task.files)
        self._finish(task, "SUCCEEDED")

    async def draw_now(self, request: ImageRequest, fault: str | None = None) -> list[Path]:
        """The request's pictures, drawn and billed now (a synchronous call's)."""
        files = await self._pictures(request, fault)
        self.images += len(files)
        return files

    async def _pictures(self, request: ImageRequest, fault: str | None) -> list[Path]:
        """The request's pictures, not billed; the ``size`` fault draws them at half the size
        asked for, the drift faults (swap, costume, grade) draw its references wrong."""
        if fault == "size":
            request = replace(request, width=max(16, request.width // 2),
                              height=max(16, request.height // 2))
        drift = fault if fault is not None and fault in DRIFT_KINDS else ""
        return await asyncio.to_thread(self._draw, request, drift)

    def _draw(self, request: ImageRequest, drift: str = "") -> list[Path]:
        """The request's pictures, drawn once per distinct prompt, seed, references, size and
        drift: bands of colour, with the references at hand drawn on them (``draw_figures``)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        pictures = [path for url in request.images if (path := self.file_of(url)) is not None] \
            if self.config.figures else []
        files = []
        for index in range(request.n):
            seed = (request.model, request.prompt, str(request.seed), *request.images, str(index))
            bands = () if self.config.figures else ("bands",)  # drawn without its references
            key = hashlib.sha256("\x00".join((*seed, f"{request.width}*{request.height}", drift,
                                               *bands))
                                 .encode()).hexdigest()
            path = self.out_dir / f"{key}.png"
            if not path.exists():  # whole or not there: a twin task may serve it at once
                self._picture(request, seed, pictures, path, drift)
            files.append(path)
        return files

    @staticmethod
    def _picture(request: ImageRequest, seed: tuple[str, ...], pictures: list[Path], path: Path,
                 drift: str) -> None:
        bands = cast_media.picture(request.width, request.height, *seed)
        if not pictures:
            write_atomic(path, bands, durable=False)
            return
        base = path.with_name(f".{path.stem}-bands.png")
        write_atomic(base, bands, durable=False)
        try:
            draw_figures(base, (request.width, request.height), pictures, path, drift)
        finally:
            base.unlink(missing_ok=True)

    def _finish(self, task: ImageTask, status: str, code: str = "", message: str = "") -> None:
        task.status, task.code, task.message, task.ended = status, code, message, self.clock.now()

    def get(self, task_id: str) -> ImageTask | None:
        task = self.tasks.get(task_id)
        if task is None or task.status == "UNKNOWN" \
                or self.clock.now() - task.created > self.config.task_ttl:
            return None
        return task

    def listing(self, start: float, end: float, model: str | None,
                status: str | None) -> list[ImageTask]:
        """Known image tasks created in ``[start, end]`` (whole seconds), for ``GET /tasks``."""
        return [t for t in self.tasks.values()
                if self.get(t.task_id) is not None and start <= math.floor(t.created) <= end
                and (model is None or t.request.model == model)
                and (status is None or t.status == status)]

    def listed(self, task: ImageTask) -> dict[str, Any]:
        """An image task as the task list shows it (as a video task is shown)."""
        return {"task_id": task.task_id, "status": task.status, "model_name": task.request.model,
                "gmt_create": self.clock.stamp(task.created),
                "start_time": self.clock.stamp(task.scheduled),
                "end_time": self.clock.stamp(task.ended), "request_id": task.request_id}

    def sign(self, name: str, expires: int) -> str:
        return hmac.new(self._secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, origin: str, path: Path, ended: float) -> str:
        expires = int(ended + self.config.result_ttl)
        return (f"{origin}/cast/{path.name}?Expires={expires}&OSSAccessKeyId=emulator"
                f"&Signature={self.sign(path.name, expires)}")

    def answer(self, task_id: str, origin: str) -> dict[str, Any]:
        """The query answer (``output`` and, once done, ``usage``) of an image task."""
        task = self.tasks[task_id]
        output: dict[str, Any] = {
            "task_id": task_id, "task_status": task.status,
            "submit_time": self.clock.stamp(task.created),
            "scheduled_time": self.clock.stamp(task.scheduled),
            "end_time": self.clock.stamp(task.ended)}
        output = {k: v for k, v in output.items() if v is not None}
        if task.status == "FAILED":
            output.update(code=task.code, message=task.message)
        if task.status != "SUCCEEDED":
            return {"output": output}
        content = [{"type": "image", "image": self.url(origin, p, task.ended or 0.0)}
                   for p in task.files]
        output.update(finished=True, choices=[{"finish_reason": "stop", "message": {
            "role": "assistant", "content": content}}])
        size = f"{task.request.width}*{task.request.height}"
        return {"output": output, "usage": {"image_count": len(task.files), "size": size}}

    def cancel(self, task_id: str) -> None:
        task = self.tasks[task_id]
        if task.status != "PENDING":
            raise ApiError(400, "UnsupportedOperation",
                           "Failed to cancel the task, which is not in PENDING status "
                           f"(status: {task.status}).")
        self._finish(task, "CANCELED")

    def file(self, name: str, expires: str, signature: str) -> Path | None:
        """The picture a signed URL names; PermissionError if unsigned or expired."""
        if not expires.isdigit() or not hmac.compare_digest(self.sign(name, int(expires)),
                                                            signature):
            raise PermissionError("The request signature we calculated does not match.")
        if self.clock.now() > int(expires):
            raise PermissionError("Request has expired.")
        path = self.out_dir / name
        return path if re.fullmatch(r"[0-9a-f]{64}\.(png|wav)", name) and path.exists() else None


def _quiet(drawing: asyncio.Future[list[Path]]) -> None:
    """A drawing no task waited for (it failed, or was canceled): its error is not reported."""
    if not drawing.cancelled():
        drawing.exception()
