"""The tools into an MCP server over stdio, built on the official ``mcp`` SDK: tools and resources.

Each tool answers structured JSON (its schema comes from the function's signature and return type)
and each failure is a message, never a traceback: a ``StoryboardError`` (problems with file, line
and column; a refusal with the plan) becomes the tool's error text. Resources: the series' files,
the compiled manifest, the latest plan, the review sheet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import Tool as MCPTool

from storyboard.agents import writing
from storyboard.agents.messages import EXPECTED, message
from storyboard.agents.tasks import StoryboardTasks
from storyboard.agents.tools import Budget, Refused, Tools
from storyboard.language.read.schemacheck import did_you_mean

F = TypeVar("F", bound=Callable[..., Any])
INSTRUCTIONS = """storyboard compiles YAML storyboards into paid AI video renders. Work this way:
check (fix every error), plan (free: what a render would do and cost), render with provider
"local" (free drafts), look at the sheet, and only then a paid render with max_cost set to what the
plan says (estimate gives that price). A paid call costing more than max_cost, or than what is
left of this server's ceiling, is refused with the plan; a client that can ask its user gets the
price asked to the person instead, and only their accept spends. Nothing is ever paid twice
(interrupted renders resume). With the Tasks extension, render and retake answer a task."""


def answered(fn: F) -> F:
    """Our errors into the tool's error message (located problems, refusals), never a trace."""
    @wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EXPECTED as error:
            raise ToolError(message(error)) from error
    return call  # type: ignore[return-value]


def read(fn: F) -> F:
    """A resource's errors into the read's error message, never a trace."""
    @wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EXPECTED as error:
            raise ResourceError(message(error)) from error
    return call  # type: ignore[return-value]


# What agents call the series folder; spelt nothing like "series", meant as it.
SERIES_WORDS = frozenset({"path", "folder", "dir", "directory", "root", "project"})


def suggestion(argument: str, known: list[str]) -> str:
    """`` (did you mean 'x'?)``: by spelling (the command line's), else by meaning."""
    close = did_you_mean(argument, known)
    if close or argument.lower() not in SERIES_WORDS or "series" not in known:
        return close
    return " (did you mean 'series'?)"


class StrictServer(MCPServer):
    """The SDK's server, refusing what the tools do not take: an argument a tool has no
    parameter for is an error that suggests the one meant (``path``: did you mean ``series``?),
    never silently dropped; the published schemas say so (``additionalProperties: false``)."""

    async def list_tools(self) -> list[MCPTool]:
        tools = await super().list_tools()
        for tool in tools:
            tool.input_schema["additionalProperties"] = False
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Any = None) -> Any:
        await self.refuse_unknown(name, arguments)
        return await super().call_tool(name, arguments, context)

    async def refuse_unknown(self, name: str, arguments: dict[str, Any]) -> None:
        tool = next((t for t in await super().list_tools() if t.name == name), None)
        if tool is not None:
            known = list(tool.input_schema.get("properties", {}))
            for argument in arguments:
                if argument not in known:
                    raise ToolError(f"{name}: unknown argument {argument!r}"
                                    f"{suggestion(argument, known)}; expected: "
                                    f"{', '.join(known) or 'no arguments'}")


def build_server(root: Path, ceiling: float) -> MCPServer:
    tools = Tools(root.resolve(), Budget(ceiling))
    tasks = StoryboardTasks(tools)
    server = StrictServer("storyboard", instructions=INSTRUCTIONS, log_level="WARNING",
                          extensions=[tasks])
    tasks.check = server.refuse_unknown
    _free_tools(server, tools)
    _writing_tools(server, tools)
    _breakdown_tool(server, tools)
    _resources(server, tools)
    return server


def _free_tools(server: MCPServer, tools: Tools) -> None:
    @server.tool(description="Every problem of the series (file, line, column, message). Free.")
    @answered
    def check(series: str = ".", provider: str | None = None) -> dict[str, Any]:
        return tools.check(series, provider)

    @server.tool(description="The compiled manifest: each shot's request body for a provider "
                             "(default the native one); one episode or shot if given. Free.")
    @answered
    def compile(series: str = ".", provider: str | None = None, episode: str | None = None,
                shot: str | None = None) -> dict[str, Any]:
        return tools.compile(series, provider, episode, shot)

    @server.tool(description="What a render would do and cost, shot by shot (cached, new, "
                             "changed and why). Free: nothing is submitted.")
    @answered
    def plan(series: str = ".", provider: str | None = None, episode: str | None = None,
             draft: bool = False) -> dict[str, Any]:
        return tools.plan(series, provider, episode, draft)

    @server.tool(description="The estimate of a paid call, what consent is asked for: what a "
                             "render (or, with shot, a retake of count takes; with source, the "
                             "breakdown of that story) would spend and buy (cost as the limits "
                             "count it, shots, seconds, rows). Free: nothing is submitted.")
    @answered
    def estimate(series: str = ".", provider: str | None = None, episode: str | None = None,
                 shot: str | None = None, count: int = 1, boards: bool = False,
                 source: str | None = None) -> dict[str, Any]:
        if source is not None:
            return writing.quote(tools, source, series)
        return tools.estimate(series, provider, episode, shot, count, boards)

    @server.tool(description="The task journal: each shot's attempts, tasks and costs; and "
                             "made_elsewhere: shots the journal lacks that the shared store or "
                             "the team's ledger has (render takes them free). Free.")
    @answered
    def status(series: str = ".", provider: str | None = None) -> dict[str, Any]:
        return tools.status(series, provider)

    @server.tool(description="Write the HTML review sheet; returns its path. Free.")
    @answered
    def sheet(series: str = ".", draft: bool = False) -> dict[str, Any]:
        return tools.sheet(series, draft)

    @server.tool(description="Every take ever rendered of a shot (ep01/ballad): take, seed, task, "
                             "cost, when, picked/approved. Free.")
    @answered
    def takes(shot: str, series: str = ".") -> dict[str, Any]:
        return tools.takes(shot, series)

    @server.tool(description="Which ffmpeg storyboard uses, its version and why. Free.")
    @answered
    def doctor() -> dict[str, Any]:
        return tools.doctor()


def _writing_tools(server: MCPServer, tools: Tools) -> None:
    @server.tool(description="Leave a review note on a shot (ep01/ballad) in review.yaml. Free.")
    @answered
    def note(shot: str, text: str, series: str = ".", take: int | None = None) -> dict[str, Any]:
        return tools.note(shot, text, series, take)

    @server.tool(description="Choose the take a shot uses (writes the lock's pick). Another "
                             "take of an approved shot is refused unless replace_approved, "
                             "which lifts the approval. Free.")
    @answered
    def pick(shot: str, take: int, series: str = ".",
             replace_approved: bool = False) -> dict[str, Any]:
        return tools.pick(shot, take, series, replace_approved)

    @server.tool(description="Approve the shot's picked take (locks it against changes). A "
                             "take with findings (takes) is refused unless force. Free.")
    @answered
    def approve(shot: str, series: str = ".", force: bool = False) -> dict[str, Any]:
        return tools.approve(shot, series, force)

    @server.tool(description=(
        "Render count more takes of a shot. provider 'local' (the default) drafts them free; any "
        "other provider needs max_cost and is refused, before anything is written, when the "
        "takes cost more than max_cost or than what is left of the server's ceiling."))
    @answered
    def retake(shot: str, count: int = 1, series: str = ".", provider: str = "local",
               max_cost: float | None = None) -> dict[str, Any]:
        return tools.retake(shot, count, series, provider, max_cost)

    @server.tool(description=(
        "Render the series and stitch its episodes. provider 'local' (the default) renders free "
        "drafts. Any other provider spends money: max_cost (USD) is required, the plan is made "
        "first, and the call is refused with the plan when it costs more than max_cost or than "
        "what is left of the server's ceiling. Interrupted renders resume without paying twice. "
        "boards: only the boards pass (a still per shot and the cast they use, no video). "
        "queue: priced and consented the same way, then queued on the team ledger for "
        "storyboard workers on other machines instead of rendered here."))
    @answered
    def render(series: str = ".", provider: str = "local", episode: str | None = None,
               max_cost: float | None = None, boards: bool = False,
               queue: bool = False) -> dict[str, Any]:
        return tools.render(series, provider, episode, max_cost, boards, queue)


def _breakdown_tool(server: MCPServer, tools: Tools) -> None:
    @server.tool(description=(
        "Break the story source (a text, Markdown or Fountain file under the root) down into a "
        "series in the folder series, by a language model: the endpoint, model and key come "
        "from the series' breakdown: block, else DashScope's. It spends money: max_cost (USD) "
        "is required (or a person's accept), the estimate is made first from the cache alone, "
        "and the call is refused when it could cost more than max_cost or than what is left of "
        "the server's ceiling. Answers already paid for are cached: never asked twice."))
    @answered
    def breakdown(source: str, series: str = ".", max_cost: float | None = None,
                  episodes: int | None = None) -> dict[str, Any]:
        return writing.write(tools, source, series, max_cost, episodes)


def _resources(server: MCPServer, tools: Tools) -> None:
    @server.resource("storyboard://manifest", mime_type="application/json",
                     description="The series' compiled manifest (native bodies).")
    @read
    def manifest() -> str:
        return json.dumps(tools.compile(), sort_keys=True)

    @server.resource("storyboard://plan", mime_type="application/json",
                     description="The latest plan a tool made (empty until one did).")
    @read
    def latest_plan() -> str:
        return json.dumps(tools.last_plan, sort_keys=True)

    @server.resource("storyboard://sheet", mime_type="text/html",
                     description="The review sheet's HTML (written again when read).")
    @read
    def sheet_html() -> str:
        return Path(tools.sheet()["html"]).read_text(encoding="utf-8")

    @server.resource("storyboard://files/{path}", description="A file of the series, as text.")
    @read
    def series_file(path: str) -> str:
        return tools.read_file(path)


def serve(root: Path, ceiling: float) -> None:
    """Run the server over stdio until the client closes it."""
    if ceiling < 0:
        raise Refused("--budget-ceiling is an amount of money: 0 or more")
    build_server(root, ceiling).run("stdio")
