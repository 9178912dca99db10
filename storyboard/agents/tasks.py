"""Long tool calls into MCP tasks, and paid calls behind a person's consent: the server's extension.

``render`` and ``retake`` pass through here before they run (the SDK's ``tools/call``
interceptor). A paid one is priced and, where the client can ask its user, asked about
(``consent``). Then, for a client that declares the Tasks extension
(``io.modelcontextprotocol/tasks``, 2026-07-28) on its request, the call answers a task handle at
once and runs in a thread of this server; ``tasks/get`` answers its status, progress and result
from the record beside the journal (``taskstore``), or, for a task another machine runs, from the
team ledger's row (``taskledger``), ``tasks/cancel`` stops it as Ctrl-C stops a render (what it
submitted stays journaled; the next call resumes it, never pays it twice), and
while the connection is open the server pushes ``notifications/tasks`` when its progress changes.
Every other client gets today's blocking tools.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, cast

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolRequestParams, CallToolResult, RequestParams, TextContent
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ConfigDict

from storyboard.agents import consent, taskledger, taskstore, writing
from storyboard.agents.messages import EXPECTED, message
from storyboard.agents.tools import Refused, Tools
from storyboard.errors import StoryboardError
from storyboard.run import ShotEvent
from storyboard.targets.kinds import has
from storyboard.targets.prices import under

IDENTIFIER = "io.modelcontextprotocol/tasks"
SPENDING = frozenset({"render", "retake", "breakdown"})
NOTIFY_EVERY = 1.0  # seconds between two looks at a listened task's progress
# Refuses arguments a tool has no parameter for (the server's own check, as the tools make it).
Checker = Callable[[str, dict[str, Any]], Awaitable[None]]


class TaskParams(RequestParams):
    task_id: str


class TaskState(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaskNotification(BaseModel):
    method: Literal["notifications/tasks"] = "notifications/tasks"
    params: TaskState


class Stopper:
    """Stops a render running in a thread as Ctrl-C does: every task of its event loop is
    cancelled (the loop is learnt from the run's first progress event)."""

    def __init__(self, record: taskstore.Record,
                 mirror: taskledger.Mirror | None = None) -> None:
        self.record = record
        self.mirror = mirror  # its row on the team ledger, if the series has one
        self.loop: asyncio.AbstractEventLoop | None = None
        self.asked = False

    def hear(self, event: ShotEvent) -> None:
        """The run's progress hook: runs in its loop's thread."""
        self.loop = asyncio.get_running_loop()
        if self.asked or cancel_marker(self.record).exists():
            self.asked = True
            _cancel_all(self.loop)

    def said(self, text: str) -> None:
        """The breakdown's progress hook: its last line kept beside the record; a stop asked
        for ends the run here, as Ctrl-C does (answers already paid for stay cached)."""
        if text:
            taskstore.say(self.record, text)
        if self.asked or cancel_marker(self.record).exists():
            self.asked = True
            raise KeyboardInterrupt

    def stop(self) -> None:
        self.asked = True
        cancel_marker(self.record).touch()
        if self.loop is not None:
            self.loop.call_soon_threadsafe(_cancel_all, self.loop)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def cancel_marker(record: taskstore.Record) -> Path:
    return record.path.with_suffix(".cancel")


class StoryboardTasks(Extension):
    identifier = IDENTIFIER

    def __init__(self, tools: Tools) -> None:
        self.library = tools
        self.check: Checker | None = None  # the server's, set once it is built
        self.live: dict[str, Stopper] = {}
        self.known: dict[str, taskstore.Record] = {}  # records found, by id
        self.team = taskledger.Team(tools.root)  # other machines' tasks, by the team ledger

    def methods(self) -> list[MethodBinding]:
        return [MethodBinding("tasks/get", TaskParams, self.get),
                MethodBinding("tasks/update", TaskParams, self.update),
                MethodBinding("tasks/cancel", TaskParams, self.cancel)]

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> HandlerResult:
        return await anyio.to_thread.run_sync(self._detailed, params.task_id)

    async def update(self, ctx: ServerRequestContext[Any, Any],
                     params: TaskParams) -> HandlerResult:
        await anyio.to_thread.run_sync(self._detailed, params.task_id)  # no task asks for input
        return {}

    async def cancel(self, ctx: ServerRequestContext[Any, Any],
                     params: TaskParams) -> HandlerResult:
        await anyio.to_thread.run_sync(self._cancel, params.task_id)
        return {}

    def _detailed(self, task_id: str) -> dict[str, Any]:
        """The task from this disk, else from the team ledger (another machine runs it)."""
        record = self._local(task_id)
        if record is not None:
            return taskstore.detailed(record, record.task_id in self.live)
        return taskledger.detailed(task_id, self._remote(task_id)[1])

    def _cancel(self, task_id: str) -> None:
        record = self._local(task_id)
        if record is None:  # another machine runs it: asked on the ledger, read at its beat
            tasks, _ = self._remote(task_id)
            tasks.ask_cancel(task_id)
            return
        stopper = self.live.get(record.task_id)
        if stopper is not None:
            stopper.stop()
        elif taskstore.result_of(record) is None:
            cancel_marker(record).touch()  # another server on this machine runs it: it looks

    def _local(self, task_id: str) -> taskstore.Record | None:
        """The task's record: this server's from memory, another's from the series folders."""
        record = self.known.get(task_id)
        if record is not None:
            return record
        try:
            record = self.known[task_id] = taskstore.find(self.library.root, task_id)
        except ValueError as error:
            if not taskstore.ID.fullmatch(str(task_id)):
                raise MCPError(code=-32602, message=str(error)) from None
            return None
        return record

    def _remote(self, task_id: str) -> tuple[Any, Any]:
        """The task's row on a team ledger of a series under the root, or "not found"."""
        try:
            return self.team.find(task_id)
        except (ValueError, StoryboardError) as error:
            raise MCPError(code=-32602, message=str(error)) from None

    async def intercept_tool_call(self, params: CallToolRequestParams,
                                  ctx: ServerRequestContext[Any, Any],
                                  call_next: CallNext) -> HandlerResult:
        if params.name not in SPENDING or not (consent.can_ask(ctx) or self._wants_task(ctx)):
            return await call_next(ctx)  # today's blocking tool, untouched
        arguments = dict(params.arguments or {})
        try:
            if self.check is not None:
                await self.check(params.name, arguments)
            quote = await anyio.to_thread.run_sync(self._quote, params.name, arguments)
        except (ToolError, *EXPECTED) as error:  # the tool's own refusals, as it words them
            return failure(error)
        if quote["paid"] and quote["cost"] > 0 and consent.can_ask(ctx):
            try:  # a price over the call's max_cost or the ceiling is refused, never asked
                self._within(quote, arguments.get("max_cost", self.library.budget.left))
            except EXPECTED as error:
                return failure(error)
            answer = await consent.ask(ctx, params, quote, str(arguments.get("series", ".")))
            if not isinstance(answer, str):
                return answer
            if answer != "accept":
                return failure(consent.refusal(answer, quote))
            arguments["max_cost"] = quote["cost"]  # what the person accepted, no more
        elif quote["paid"] and self._wants_task(ctx):
            try:  # no one to ask: max_cost is the consent, checked before a task exists
                self._within(quote, arguments.get("max_cost"))
            except EXPECTED as error:
                return failure(error)
        if self._wants_task(ctx):
            try:  # a team ledger that cannot be reached refuses the task before it exists
                return await anyio.to_thread.run_sync(self._start, params.name, arguments,
                                                      quote, ctx)
            except EXPECTED as error:
                return failure(error)
        params.arguments = arguments
        return await call_next(ctx)

    def _wants_task(self, ctx: ServerRequestContext[Any, Any]) -> bool:
        capabilities = ctx.session.client_capabilities
        declared = capabilities.extensions if capabilities is not None else None
        return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS and bool(
            declared and IDENTIFIER in declared)

    def _within(self, quote: dict[str, Any], max_cost: object) -> None:
        limit = self.library.allowed(max_cost)
        if not under(quote["cost"], limit):
            raise Refused(f"refused, nothing was submitted: the plan costs about "
                          f"{quote['cost']:.2f} {quote['currency']}, more than this call may "
                          f"spend ({limit:.2f})")

    def _quote(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The call's estimate (``paid``: whether it spends), refusals raised as the tool's."""
        provider = str(arguments.get("provider", "local"))
        series = str(arguments.get("series", "."))
        if tool == "breakdown":
            return {**writing.quote(self.library, str(arguments.get("source", "")), series,
                                    arguments.get("episodes")), "paid": True}
        if tool == "retake":
            quote = self.library.estimate(series, provider, shot=str(arguments.get("shot", "")),
                                        count=int(arguments.get("count", 1)))
        elif has(provider, "drafts"):
            rows = plan_rows(self.library.plan(series, provider, arguments.get("episode"),
                                               draft=True))
            quote = {"provider": provider, "currency": "", "cost": 0.0, "waiting_on_boards": 0,
                     "shots": sum(1 for row in rows if row["status"] != "cached")}
        else:
            quote = self.library.estimate(series, provider, arguments.get("episode"),
                                          boards=bool(arguments.get("boards", False)))
        return {**quote, "paid": not has(provider, "drafts")}

    def _start(self, tool: str, arguments: dict[str, Any], quote: dict[str, Any],
               ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        folder = self.library.series(str(arguments.get("series", ".")))
        record = taskstore.Record(taskstore.new_id(), tool, arguments, str(folder), time.time(),
                                  int(quote.get("calls", quote["shots"])),
                                  int(quote["waiting_on_boards"]),
                                  str(quote["currency"]))
        mirror = self.team.mirror(folder, record)  # on the team ledger, if the series has one
        try:
            taskstore.write(record)  # durable before the handle is answered
        except OSError as error:  # no task: its ledger row says so, never "working" for ever
            if mirror is not None:
                mirror.end(failure(error).model_dump(by_alias=True, mode="json",
                                                     exclude_none=True))
            raise
        self.known[record.task_id] = record
        stopper = self.live[record.task_id] = Stopper(record, mirror)
        threading.Thread(target=self._run, args=(stopper,), daemon=True).start()
        if mirror is not None:
            threading.Thread(target=self._beat, args=(stopper, mirror), daemon=True).start()
        token = anyio.from_thread.run_sync(anyio.lowlevel.current_token)
        threading.Thread(target=self._notify, args=(record, ctx.session, token),
                         daemon=True).start()
        return {"resultType": "task", **{k: v for k, v in taskstore.detailed(
            record, True).items() if k not in ("result", "error")}}

    def _run(self, stopper: Stopper) -> None:
        record = stopper.record
        try:
            result = answer(self._call(stopper))
        except (asyncio.CancelledError, KeyboardInterrupt):
            result = stopped(record)
        except EXPECTED as error:
            result = failure(error).model_dump(by_alias=True, mode="json", exclude_none=True)
        if stopper.asked and result.get("structuredContent", {}).get("ok") is False:
            result = stopped(record)
        taskstore.finish(record, result)
        if stopper.mirror is not None:
            stopper.mirror.end(result)
        self.live.pop(record.task_id, None)

    def _beat(self, stopper: Stopper, mirror: taskledger.Mirror) -> None:
        """A running task's progress on the team ledger once a second; a cancel asked there
        (by a server on another machine) stops it as this server's own ``tasks/cancel`` does."""
        while True:
            time.sleep(NOTIFY_EVERY)
            if stopper.record.task_id not in self.live:
                return
            if mirror.beat() and not stopper.asked:
                stopper.stop()

    def _call(self, stopper: Stopper) -> dict[str, Any]:
        record = stopper.record
        if record.tool == "breakdown":
            return writing.write(self.library, **record.arguments, progress=stopper.said)
        call = self.library.retake if record.tool == "retake" else self.library.render
        return call(**record.arguments, on_event=stopper.hear)

    def _notify(self, record: taskstore.Record, session: ServerSession, token: Any) -> None:
        """``notifications/tasks`` to the client that started the task while it listens: each
        change of its status or progress, until it ends or the connection closes."""
        said = ""
        while True:
            time.sleep(NOTIFY_EVERY)
            state = taskstore.detailed(record, record.task_id in self.live)
            now = f"{state['status']} {state['statusMessage']}"
            if now != said:
                said = now
                note = TaskNotification(params=TaskState(**state))
                try:
                    anyio.from_thread.run(session.send_notification, cast(Any, note), token=token)
                except Exception:  # the client went away: it polls when it comes back
                    return
            if state["status"] != "working":
                return


def plan_rows(planned: dict[str, Any]) -> list[dict[str, Any]]:
    """The shot rows of the ``plan`` tool's answer: a series' plan, or a matrix's (its provider
    groups' plans, as ``storyboard plan --json`` gives them)."""
    groups = planned.get("groups", [planned])
    return [row for group in groups
            for row in group.get("plan", group)["shots"]]


def answer(structured: dict[str, Any]) -> dict[str, Any]:
    """A tool's answer as the CallToolResult the blocking call would have given."""
    text = TextContent(type="text", text=_json(structured))
    return CallToolResult(content=[text], structured_content=structured, is_error=False).model_dump(
        by_alias=True, mode="json", exclude_none=True)


def stopped(record: taskstore.Record) -> dict[str, Any]:
    numbers = taskstore.progress(record)
    text = ("cancelled: " + taskstore.message(numbers) + "; what was submitted stays journaled "
            "and is resumed, never paid twice, by the next call")
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content={"cancelled": True, **numbers},
                          is_error=False).model_dump(by_alias=True, mode="json", exclude_none=True)


def failure(error: object) -> CallToolResult:
    text = message(error) if isinstance(error, BaseException) else str(error)
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _json(data: dict[str, Any]) -> str:
    import json
    return json.dumps(data, indent=2, sort_keys=True)
