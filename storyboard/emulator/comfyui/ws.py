"""A prompt's run into ComfyUI's ``/ws`` messages: the real shapes, to the client that queued it.

ComfyUI's server (``server.py``, ``execution.py``, ``main.py``) sends JSON text frames
``{"type": ..., "data": ...}`` on ``WS /ws?clientId=ID``: ``status`` on connect (with the ``sid``)
and to everyone when the queue changes; then, to the client whose ``client_id`` queued the
prompt, ``execution_start``, ``execution_cached``, ``executing {node, display_node, prompt_id}``
per node, ``progress {value, max, prompt_id, node}`` per sampling step, ``progress_state
{prompt_id, nodes}`` as each node starts, steps and finishes (every node begun so far, each
``{value, max, state, node_id, prompt_id, display_node_id, parent_node_id, real_node_id}``, its
state ``running`` or ``finished``), ``executed`` for an output node, ``execution_success``
(or ``execution_error`` / ``execution_interrupted``), and, once the history holds the result,
``executing {node: null, prompt_id}``. A second socket with the same ``clientId`` replaces
the first, as there. A frame a client sends is read and ignored, as ComfyUI's handler does (it
only logs it); an id that is not a plain token is refused.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

SAFE_CLIENT = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
Message = dict[str, Any]
CLOSE = None  # put on a listener's queue: the server closes that socket
MAX_STEPS = 100  # progress messages per sampling node, at most


def message(kind: str, data: dict[str, Any]) -> Message:
    return {"type": kind, "data": data}


def stamped(kind: str, data: dict[str, Any]) -> Message:
    """The executor's messages carry the time they were made, in milliseconds."""
    return message(kind, {**data, "timestamp": int(time.time() * 1000)})


class Listeners:
    """The open sockets, by client id: each one's queue of messages to send."""

    def __init__(self) -> None:
        self.queues: dict[str, asyncio.Queue[Message | None]] = {}
        self.sent = 0

    def listen(self, sid: str) -> asyncio.Queue[Message | None]:
        old = self.queues.pop(sid, None)
        if old is not None:
            old.put_nowait(CLOSE)  # the same id again: the old socket is dropped
        queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self.queues[sid] = queue
        return queue

    def leave(self, sid: str, queue: asyncio.Queue[Message | None]) -> None:
        if self.queues.get(sid) is queue:
            del self.queues[sid]

    def send(self, sid: Any, item: Message) -> None:
        """To the client ``sid`` (a prompt's ``client_id``); nobody when it has no socket."""
        queue = self.queues.get(sid) if isinstance(sid, str) else None
        if queue is not None:
            self.sent += 1
            queue.put_nowait(item)

    def broadcast(self, item: Message) -> None:
        for sid in list(self.queues):
            self.send(sid, item)

    def close_all(self) -> None:
        """A restarted server: every socket drops."""
        for queue in self.queues.values():
            queue.put_nowait(CLOSE)
        self.queues.clear()


class NodeStates:
    """A prompt's ``progress_state`` messages (``comfy_execution/progress.py``): each time a node
    starts, steps or finishes, every node begun so far with its state, value and max."""

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        self.nodes: dict[str, dict[str, Any]] = {}

    def said(self, node: str, state: str, value: float, most: float) -> Message:
        self.nodes[node] = {"value": value, "max": most, "state": state, "node_id": node,
                            "prompt_id": self.prompt_id, "display_node_id": node,
                            "parent_node_id": None, "real_node_id": node}
        return message("progress_state", {"prompt_id": self.prompt_id,
                                          "nodes": {k: dict(v) for k, v in self.nodes.items()}})


def status(remaining: int, sid: str | None = None) -> Message:
    data: dict[str, Any] = {"status": {"exec_info": {"queue_remaining": remaining}}}
    if sid is not None:
        data["sid"] = sid
    return message("status", data)


def order(graph: dict[str, Any]) -> list[str]:
    """The nodes in an order they can run in (each after the nodes it takes inputs from)."""
    needs = {node_id: {str(v[0]) for v in node["inputs"].values()
                       if isinstance(v, list) and len(v) == 2 and str(v[0]) in graph}
             for node_id, node in graph.items()}
    done: list[str] = []
    while len(done) < len(needs):
        ready = sorted((n for n, deps in needs.items() if n not in done and deps <= set(done)),
                       key=lambda n: (len(n), n))
        if not ready:  # a cycle (validation refuses none): the rest in id order
            done += sorted((n for n in needs if n not in done), key=lambda n: (len(n), n))
            break
        done += ready
    return done


def steps_of(node: dict[str, Any]) -> int:
    """How many progress messages a node sends: a sampler's ``steps``, else none."""
    steps = node["inputs"].get("steps")
    if not node["class_type"].startswith("KSampler") or not isinstance(steps, int):
        return 0
    return max(1, min(steps, MAX_STEPS))


async def endpoint(websocket: WebSocket) -> None:
    """``WS /ws?clientId=ID``: the status now, then every message for this client until it
    goes away (what it sends is ignored)."""
    sid = websocket.query_params.get("clientId") or uuid.uuid4().hex
    if not SAFE_CLIENT.match(sid) or set(websocket.query_params) - {"clientId"}:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    instance = websocket.app.state.instance
    listeners: Listeners = instance.listeners
    queue = listeners.listen(sid)
    reader = asyncio.get_running_loop().create_task(_ignore_input(websocket))
    try:
        await websocket.send_json(status(instance.remaining(), sid))
        while True:
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                break  # the client went away
            item = getter.result()
            if item is CLOSE:
                await websocket.close(code=1012)  # service restart
                break
            await websocket.send_json(item)
    except (WebSocketDisconnect, RuntimeError):
        pass  # gone mid-send
    finally:
        reader.cancel()
        listeners.leave(sid, queue)


async def _ignore_input(websocket: WebSocket) -> None:
    """Reads (and drops) what the client sends; ends when it leaves."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        continue
