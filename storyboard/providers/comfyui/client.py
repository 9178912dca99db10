"""ComfyUI server answers into our types: one instance's routes, errors in the ``ProviderError`` family.

The routes of ComfyUI's server (``server.py``): ``POST /upload/image`` (every medium goes through
it), ``POST /prompt`` with a client-chosen ``prompt_id``, ``GET /history/{id}``, ``GET /queue``,
``POST /queue`` (``delete``), ``POST /interrupt``, ``GET /object_info`` and ``GET /view``. Each
method sends one request and translates one answer; the dispatcher (``comfyui``) decides where.
A 400 from ``/prompt`` carries ``node_errors``: they are named, node by node, in the error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from storyboard.errors import ProviderError, RequestRejected
from storyboard.providers import protocol
from storyboard.providers.protocol import json_answer, send
from storyboard.targets.kinds import COMFYUI

NAME = COMFYUI.name
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".gif", ".webp")
OUTPUT_KEYS = ("images", "videos", "gifs", "video")


def node_errors(answer: Any) -> str:
    """A 400 answer of ``/prompt`` in words: the error, then each node's problems."""
    if not isinstance(answer, dict):
        return str(answer)[:protocol.SNIPPET]
    error = answer.get("error")
    parts = [str(error.get("message") or error.get("type")) if isinstance(error, dict)
             else str(error or "the graph was refused")]
    if isinstance(error, dict) and error.get("details"):
        parts[0] += f" ({error['details']})"
    for node_id, problem in (answer.get("node_errors") or {}).items():
        if not isinstance(problem, dict):
            continue
        said = "; ".join(f"{e.get('message')}: {e.get('details')}"
                         for e in problem.get("errors") or [] if isinstance(e, dict))
        parts.append(f"node {node_id} ({problem.get('class_type', '?')}): {said}")
    return "; ".join(parts)


def first_video(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The first video file a finished prompt's outputs list (``SaveVideo``'s ``images`` with
    ``animated``, or a custom node's ``gifs`` / ``videos``)."""
    outputs = entry.get("outputs") or {}
    for node_id in sorted(outputs, key=str):
        node = outputs[node_id]
        for key in OUTPUT_KEYS:
            for item in node.get(key) or [] if isinstance(node, dict) else []:
                if isinstance(item, dict) and str(item.get("filename", "")).lower().endswith(
                        VIDEO_SUFFIXES):
                    return item
    return None


FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def frames_of(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The still frames a finished prompt saved (``SaveImage``'s ``images``, none animated), in
    file name order: the video of a workflow that ends in image frames."""
    outputs = entry.get("outputs") or {}
    for node_id in sorted(outputs, key=str):
        node = outputs[node_id]
        if not isinstance(node, dict) or any(node.get("animated") or []):
            continue
        frames = [item for item in node.get("images") or [] if isinstance(item, dict)
                  and str(item.get("filename", "")).lower().endswith(FRAME_SUFFIXES)]
        if frames:
            return sorted(frames, key=lambda item: str(item.get("filename")))
    return []


def status_of(entry: dict[str, Any]) -> tuple[str, str, dict[str, float]]:
    """(``success`` | ``error`` | ``interrupted`` | ``running``, message, event timestamps)."""
    status = entry.get("status") or {}
    times: dict[str, float] = {}
    message = ""
    word = str(status.get("status_str") or "")
    for event in status.get("messages") or []:
        if not (isinstance(event, list) and len(event) == 2 and isinstance(event[1], dict)):
            continue
        kind, data = str(event[0]), event[1]
        if isinstance(data.get("timestamp"), int | float):
            times[kind] = float(data["timestamp"]) / 1000.0
        if kind == "execution_error":
            message = (f"node {data.get('node_id')} ({data.get('node_type')}): "
                       f"{data.get('exception_message', '').strip()}")
        if kind == "execution_interrupted":
            word = "interrupted"
    if not word:
        word = "success" if status.get("completed") else "running"
    return word, message, times


class Instance:
    """One ComfyUI server (one GPU): its base URL and the client requests go through."""

    def __init__(self, url: str, client: protocol.LazyClient) -> None:
        self.url = url.rstrip("/")
        self._client = client

    def __repr__(self) -> str:
        return f"Instance({self.url})"

    async def _json(self, method: str, path: str, what: str, shot: str = "",
                    **kwargs: Any) -> dict[str, Any]:
        response = await send(self._client(), method, self.url + path, provider=NAME,
                              what=f"{what} on {self.url}", shot=shot, **kwargs)
        return json_answer(response, provider=NAME, what=what, shot=shot)

    async def object_info(self) -> dict[str, Any]:
        return await self._json("GET", "/object_info", "node list (/object_info)")

    async def upload(self, path: Path, name: str, shot: str) -> str:
        """Upload a reference (image, video or audio) as ``name``; the name to put in the graph."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ProviderError(f"cannot read {path}: {exc.strerror or exc}", provider=NAME,
                                shot=shot) from exc
        answer = await self._json("POST", "/upload/image", "upload", shot,
                                  files={"image": (name, data)},
                                  data={"type": "input", "overwrite": "true"})
        uploaded = str(answer.get("name") or "")
        if not uploaded:
            raise ProviderError(f"upload of {path.name}: no name in the answer", provider=NAME,
                                shot=shot)
        folder = str(answer.get("subfolder") or "")
        return f"{folder}/{uploaded}" if folder else uploaded

    async def prompt(self, graph: dict[str, Any], prompt_id: str, client_id: str,
                     shot: str) -> None:
        """Queue ``graph`` as ``prompt_id``; a graph the server refuses is a located error."""
        body = {"prompt": graph, "prompt_id": prompt_id, "client_id": client_id}
        try:
            response = await self._client().post(self.url + "/prompt", json=body)
        except httpx.HTTPError as exc:
            raise protocol.error_for_exception(exc, provider=NAME, what=f"submit to {self.url}",
                                               shot=shot) from exc
        if response.status_code == 400:
            try:
                answer = response.json()
            except ValueError:
                answer = response.text
            raise RequestRejected(f"{self.url} refused the graph: {node_errors(answer)}",
                                  provider=NAME, shot=shot, code="InvalidPrompt", status=400)
        if response.status_code >= 400:
            raise protocol.error_for_response(response, provider=NAME,
                                              what=f"submit to {self.url}", shot=shot)

    async def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The prompt's history entry, or None (still queued, or never known here)."""
        answer = await self._json("GET", f"/history/{quote(prompt_id, safe='')}",
                                  f"history of {prompt_id}")
        entry = answer.get(prompt_id)
        return entry if isinstance(entry, dict) else None

    async def queue(self) -> tuple[list[str], list[str]]:
        """The prompt ids running and waiting."""
        answer = await self._json("GET", "/queue", "queue")
        return _ids(answer.get("queue_running")), _ids(answer.get("queue_pending"))

    async def _post(self, path: str, body: dict[str, Any], what: str) -> None:
        """A POST whose answer is an empty 200 (``/interrupt``, ``/queue``)."""
        await send(self._client(), "POST", self.url + path, provider=NAME,
                   what=f"{what} on {self.url}", content=json.dumps(body))

    async def interrupt(self, prompt_id: str) -> None:
        await self._post("/interrupt", {"prompt_id": prompt_id}, f"interrupt of {prompt_id}")

    async def delete(self, prompt_id: str) -> None:
        await self._post("/queue", {"delete": [prompt_id]}, f"removal of {prompt_id}")

    def view_url(self, item: dict[str, Any]) -> str:
        query = urlencode({"filename": item.get("filename", ""),
                           "subfolder": item.get("subfolder", ""),
                           "type": item.get("type", "output")})
        return f"{self.url}/view?{query}"


def _ids(items: Any) -> list[str]:
    """Prompt ids from queue items (``[number, prompt_id, prompt, extra, outputs]``)."""
    return [str(item[1]) for item in items or [] if isinstance(item, list) and len(item) > 1]
