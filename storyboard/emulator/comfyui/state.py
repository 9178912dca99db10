"""Queued ComfyUI prompts into results: one emulated instance's queue, worker, history and faults.

Like a real ComfyUI server it runs one prompt at a time, keeps its history in memory only (a
``restart`` forgets the history, the queue and the running job and drops every ``/ws`` socket;
uploaded and saved files stay on disk), and never refuses a prompt id it has seen (sending twice
runs twice: the counters show it). While a prompt runs, its client hears the real ``/ws`` messages
(``comfyui_ws``): each node, each sampling step, the result.
The result is a video drawn from the graph's own values (its positive text, seed, size, length,
frame rate and the uploaded references), so a test can tell which take and seed it got.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.animatic.clip import render
from storyboard.animatic.draw import Animatic, Sound, Thumbnail, TimedText
from storyboard.emulator.comfyui.nodes import NODES, SOUND_NODES, object_info, reachable, validate
from storyboard.emulator.comfyui.ws import Listeners, NodeStates, message, order, stamped, status, steps_of
from storyboard.media import ffmpeg


@dataclass
class ComfyConfig:
    job_time: float = 0.2  # seconds a prompt runs (at least: the drawing may take longer)
    plain: bool = False  # results without text or pictures, drawn once per size (benchmarks)
    missing_nodes: tuple[str, ...] = ()  # node classes this instance has not installed
    websocket: bool = True  # serve /ws (off: a server whose socket is refused)
    view_bytes: int = 0  # GET /view sends this many zeros instead, with no length (a result
    # far larger than any made: a client that does not hang up at its limit reads them all)


@dataclass
class Item:
    number: int
    prompt_id: str
    graph: dict[str, Any]
    extra: dict[str, Any]
    outputs: list[str]
    states: NodeStates | None = None  # its progress_state, once it runs

    def wire(self) -> list[Any]:
        return [self.number, self.prompt_id, self.graph, self.extra, self.outputs]


@dataclass
class Counters:
    prompts: collections.Counter[str] = field(default_factory=collections.Counter)
    executed: collections.Counter[str] = field(default_factory=collections.Counter)
    refused: int = 0
    uploads: int = 0
    restarts: int = 0
    interrupts: int = 0
    seeds: dict[str, int] = field(default_factory=dict)
    streamed: int = 0  # bytes an endless /view sent before its client hung up


def now_ms() -> int:
    return int(time.time() * 1000)


class Instance:
    """One emulated ComfyUI server's state; every method runs on the server's event loop."""

    def __init__(self, config: ComfyConfig, folder: Path) -> None:
        self.config = config
        self.inputs, self.outputs = folder / "input", folder / "output"
        self.inputs.mkdir(parents=True, exist_ok=True)
        self.outputs.mkdir(parents=True, exist_ok=True)
        self.counters = Counters()
        self.numbers = itertools.count()
        self.pending: collections.deque[Item] = collections.deque()
        self.running: Item | None = None
        self.history: dict[str, dict[str, Any]] = {}
        self.frame_files: dict[str, list[Path]] = {}  # a SaveImage prompt's frames
        self.slow: list[float] = []  # extra seconds for the next jobs (a fault)
        self.listeners = Listeners()  # the /ws sockets, by client id
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._job: asyncio.Task[None] | None = None

    # -- the API --------------------------------------------------------------------------------

    def object_info(self) -> dict[str, Any]:
        return object_info(self.config.missing_nodes)

    def submit(self, body: Any) -> tuple[int, dict[str, Any]]:
        graph = body.get("prompt") if isinstance(body, dict) else None
        known = set(self.object_info())
        refused = validate(graph, known, self._files())
        if refused is not None:
            self.counters.refused += 1
            return 400, refused
        assert isinstance(graph, dict)
        prompt_id = str(body.get("prompt_id") or f"emulated-{next(self.numbers)}")
        outputs = [k for k, n in graph.items() if NODES[n["class_type"]].output_node]
        item = Item(next(self.numbers), prompt_id, graph,
                    {"client_id": body.get("client_id")}, outputs)
        self.counters.prompts[prompt_id] += 1
        self.pending.append(item)
        self.listeners.broadcast(status(self.remaining()))
        self._wake.set()
        return 200, {"prompt_id": prompt_id, "number": item.number, "node_errors": {}}

    def _files(self) -> set[str]:
        return {p.relative_to(self.inputs).as_posix() for p in self.inputs.rglob("*")
                if p.is_file()}

    def remaining(self) -> int:
        return len(self.pending) + (self.running is not None)

    def queue(self) -> dict[str, Any]:
        return {"queue_running": [self.running.wire()] if self.running else [],
                "queue_pending": [item.wire() for item in self.pending]}

    def change_queue(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        if body.get("clear"):
            self.pending.clear()
        doomed = {str(x) for x in body.get("delete") or []}
        self.pending = collections.deque(i for i in self.pending if i.prompt_id not in doomed)

    def interrupt(self, prompt_id: str | None) -> None:
        if self.running is not None and self._job is not None and \
                prompt_id in (None, self.running.prompt_id):
            self.counters.interrupts += 1
            self._job.cancel()

    def restart(self) -> list[str]:
        """A server restart: the queue, the running job and the history are gone (the ids of
        the jobs it drops are returned)."""
        dropped = [item.prompt_id for item in (self.running, *self.pending) if item is not None]
        self.counters.restarts += 1
        if self._job is not None:
            self._job.cancel()
        self.pending.clear()
        self.history.clear()
        self.running = None
        self.listeners.close_all()
        return dropped

    def snapshot(self) -> dict[str, Any]:
        c = self.counters
        return {"prompts": dict(c.prompts), "executed": dict(c.executed), "refused": c.refused,
                "uploads": c.uploads, "restarts": c.restarts, "interrupts": c.interrupts,
                "seeds": dict(c.seeds), "streamed": c.streamed, "queue": self.remaining(),
                "ws_sent": self.listeners.sent,
                "running": self.running.prompt_id if self.running is not None else None}

    # -- the worker ------------------------------------------------------------------------------

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        for task in (self._job, self._worker):
            if task is not None:
                task.cancel()

    async def _work(self) -> None:
        while True:
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self.running = self.pending.popleft()
            self.listeners.broadcast(status(self.remaining()))
            started = now_ms()
            self._job = asyncio.get_running_loop().create_task(self._run(item))
            try:
                await self._job
                self._record(item, started, "success")
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the server stops
                if self.running is item:  # interrupted, not restarted
                    self._record(item, started, "interrupted")
            except Exception as exc:  # a broken result: the prompt fails, the server goes on
                self._record(item, started, "error", str(exc))
            finally:
                self._job = None
                if self.running is item:
                    self.running = None

    def _say(self, item: Item, said: dict[str, Any]) -> None:
        self.listeners.send(item.extra.get("client_id"), said)

    async def _run(self, item: Item) -> None:
        began = time.monotonic()
        prompt_id = item.prompt_id
        values = graph_values(item.graph, self.inputs)
        self.counters.seeds[prompt_id] = int(values["seed"])
        out = self.outputs / "video" / f"{prompt_id}_{item.number:05d}.mp4"
        self._say(item, stamped("execution_start", {"prompt_id": prompt_id}))
        self._say(item, stamped("execution_cached", {"nodes": [], "prompt_id": prompt_id}))
        drawing = asyncio.ensure_future(asyncio.to_thread(self._draw, values, out))
        seconds = self.config.job_time + (self.slow.pop(0) if self.slow else 0.0)
        nodes = order({n: item.graph[n] for n in reachable(item.graph, item.outputs)})
        tick = seconds / (sum(steps_of(item.graph[n]) for n in nodes) + 1)
        states = item.states = NodeStates(prompt_id)
        for node_id in nodes:
            self._say(item, states.said(node_id, "running", 0.0, 1.0))
            self._say(item, message("executing", {"node": node_id, "display_node": node_id,
                                                  "prompt_id": prompt_id}))
            steps = steps_of(item.graph[node_id])
            for step in range(1, steps + 1):
                await asyncio.sleep(tick)
                self._say(item, states.said(node_id, "running", step, steps))
                self._say(item, message("progress", {"value": step, "max": steps,
                                                     "prompt_id": prompt_id, "node": node_id}))
            if node_id not in item.outputs[:1]:  # the result's node: finished once executed
                self._say(item, states.said(node_id, "finished", steps or 1.0, steps or 1.0))
        await drawing
        if _saves_frames(item):  # a workflow ending in SaveImage: its frames, not a video
            self.frame_files[prompt_id] = await asyncio.to_thread(
                ffmpeg.video_frames, out, self.outputs / "frames", out.stem)
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
        self.counters.executed[prompt_id] += 1

    def _draw(self, values: dict[str, Any], out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not self.config.plain:
            render(animatic(values), out)
            return
        key = (f"plain-{values['width']}x{values['height']}-{values['frames']}-{values['fps']}"
               f"{'-silent' if values['silent'] else ''}")
        drawn = self.outputs / f"{key}.mp4"
        if not drawn.is_file():
            render(Animatic(values["width"], values["height"], values["frames"] / values["fps"],
                            values["fps"], audio=not values["silent"]), drawn)
        shutil.copyfile(drawn, out)

    def _record(self, item: Item, started: int, word: str, text: str = "") -> None:
        prompt_id = item.prompt_id
        events: list[list[Any]] = [["execution_start", {"prompt_id": prompt_id,
                                                        "timestamp": started}]]
        outputs: dict[str, Any] = {}
        if word == "success":
            name = f"{prompt_id}_{item.number:05d}.mp4"
            outputs = {node: _output(item.graph[node], name,
                                     self.frame_files.get(prompt_id, []))
                       for node in item.outputs[:1]}
            for node, output in outputs.items():
                self._say(item, message("executed", {"node": node, "display_node": node,
                                                     "output": output, "prompt_id": prompt_id}))
                if item.states is not None:
                    self._say(item, item.states.said(node, "finished", 1.0, 1.0))
            events.append(["execution_success", {"prompt_id": prompt_id,
                                                 "timestamp": now_ms()}])
        elif word == "interrupted":
            events.append(["execution_interrupted", {"prompt_id": prompt_id, "node_id": "?",
                                                     "node_type": "?", "executed": [],
                                                     "timestamp": now_ms()}])
        else:
            events.append(["execution_error", {"prompt_id": prompt_id, "node_id": "?",
                                               "node_type": "?", "executed": [],
                                               "exception_message": text,
                                               "exception_type": "RuntimeError",
                                               "traceback": [], "current_inputs": {},
                                               "current_outputs": {}, "timestamp": now_ms()}])
        self._say(item, message(*events[-1]))
        self.history[prompt_id] = {
            "prompt": item.wire(), "outputs": outputs, "meta": {},
            "status": {"status_str": "success" if word == "success" else "error",
                       "completed": word == "success", "messages": events}}
        self.listeners.broadcast(status(self.remaining() - 1))  # this one is done
        self._say(item, message("executing", {"node": None, "prompt_id": prompt_id}))


def _saves_frames(item: Item) -> bool:
    return any(item.graph[n].get("class_type") == "SaveImage" for n in item.outputs[:1])


def _output(node: dict[str, Any], name: str, frames: list[Path]) -> dict[str, Any]:
    """What an output node lists in the history: ``SaveVideo`` its file under ``images`` (with
    ``animated``), Video Helper Suite's combine node under ``gifs``, ``SaveImage`` its frames."""
    file = {"filename": name, "subfolder": "video", "type": "output"}
    if node.get("class_type") == "SaveImage":
        return {"images": [{"filename": f.name, "subfolder": "frames", "type": "output"}
                           for f in frames]}
    if node.get("class_type") == "VHS_VideoCombine":
        return {"gifs": [{**file, "format": "video/h264-mp4"}]}
    return {"images": [file], "animated": [True]}


def _linked(graph: dict[str, Any], value: Any) -> dict[str, Any] | None:
    if isinstance(value, list) and len(value) == 2 and str(value[0]) in graph:
        node: dict[str, Any] = graph[str(value[0])]
        return node
    return None


def graph_values(graph: dict[str, Any], inputs: Path) -> dict[str, Any]:
    """What the result shows: the positive text, seed, size, length, fps and uploaded files."""
    values: dict[str, Any] = {"text": "", "seed": 0, "width": 640, "height": 360,
                              "frames": 81, "fps": 16, "images": [], "videos": [], "audio": [],
                              "silent": False}
    for node in graph.values():
        kind, ins = node["class_type"], node["inputs"]
        if kind.startswith("Wan"):
            values.update({k: int(ins[k]) for k in ("width", "height", "length")
                           if isinstance(ins.get(k), int)})
            values["frames"] = values.pop("length", values["frames"])
            positive = _linked(graph, ins.get("positive"))
            if positive is not None and isinstance(positive["inputs"].get("text"), str):
                values["text"] = positive["inputs"]["text"]
        if kind == "EmptyLatentImage":  # a picture (a board): one frame of its size
            values.update({k: int(ins[k]) for k in ("width", "height")
                           if isinstance(ins.get(k), int)}, frames=1)
        if kind in ("EmptyImage", "ImageScale"):  # frames made or scaled without weights
            values.update({k: int(ins[k]) for k in ("width", "height")
                           if isinstance(ins.get(k), int)})
        batch = {"EmptyImage": "batch_size", "RepeatImageBatch": "amount"}.get(kind, "")
        if isinstance(ins.get(batch), int):
            values["frames"] = int(ins[batch])
        if kind == "KSampler" and isinstance(ins.get("seed"), int):
            values["seed"] = ins["seed"]
        if kind == "CreateVideo" and isinstance(ins.get("fps"), int | float):
            values["fps"] = int(ins["fps"])
        if kind == "VHS_VideoCombine" and isinstance(ins.get("frame_rate"), int | float):
            values["fps"] = int(ins["frame_rate"])
        if kind in SOUND_NODES:  # as ComfyUI: a video without a linked sound has no audio track
            values["silent"] = _linked(graph, ins.get("audio")) is None
        if kind == "SaveImage":  # frames have no sound
            values["silent"] = True
        loaded = {"LoadImage": ("image", "images"), "LoadVideo": ("file", "videos"),
                  "LoadAudio": ("audio", "audio")}.get(kind)
        if loaded and isinstance(ins.get(loaded[0]), str):
            values[loaded[1]].append(inputs / ins[loaded[0]])
    return values


def animatic(values: dict[str, Any]) -> Animatic:
    duration = values["frames"] / values["fps"]
    thumbs = tuple(Thumbnail(p, p.name[:20], kind == "videos")
                   for kind in ("images", "videos") for p in values[kind])
    sounds = tuple(Sound(p, 0.0, duration) for p in values["audio"][:1])
    text = f"seed {values['seed']}: {values['text']}"
    return Animatic(values["width"], values["height"], duration, values["fps"],
                    thumbnails=thumbs, texts=(TimedText(text, 0.0, duration),), sounds=sounds,
                    audio=not values["silent"])
