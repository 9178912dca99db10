"""Studio state into HTTP: the live page, its event stream, its files, and the few writes it takes.

Every request must name the studio itself as its Host (a DNS-rebinding page cannot) and, when the
browser says where it comes from, the studio as its Origin; every request must carry the token the
studio printed (in the URL once, then as a same-site cookie); every write must also carry it in the
``X-Studio-Token`` header, which no other site can set without a preflight the studio refuses.
Files are served only from inside the series folder and its draft output, never through a link out;
stills only by the names the current page shows (``/still/NAME``: looked up, never joined to a
folder; kept by the browser, a name always holding the same picture); parts of the page only by
the names the current page has (``/part/KEY``). Anything else is refused: unknown paths 404, other
methods 405.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from storyboard.errors import StoryboardError
from storyboard.language.request import BOARDS
from storyboard.review.notes import note_on
from storyboard.review.seasongrid import Grid, stamp
from storyboard.review.studio.castpage import Cast, cast_page_html
from storyboard.review.studio.controls import inject
from storyboard.review.studio.grid import covers_of, grid_page, waiting_page
from storyboard.review.studio.proposals import settle
from storyboard.review.studio.state import CLOSED, Studio
from storyboard.run.boards.batch import approve_boards, boards_named
from storyboard.run.choices.checks import HasFindings, approve_checked
from storyboard.run.state import takes
from storyboard.run.state.cache import file_name

COOKIE = "storyboard_studio"
MAX_BODY = 64 * 1024
KEEP = "private, max-age=31536000, immutable"  # a still's name always holds the same picture
Handler = Callable[[Request], Awaitable[Response]]


class Guard:
    """Who may ask: the studio's own host names and the token."""

    def __init__(self, token: str, hosts: set[str]) -> None:
        self.token = token
        self.hosts = hosts  # "127.0.0.1:8766", "localhost:8766"

    def refusal(self, request: Request, write: bool) -> Response | None:
        if request.headers.get("host", "") not in self.hosts:
            return _refuse(421, "this studio answers only to its own address")
        origin = request.headers.get("origin")
        if origin is not None and origin.removeprefix("http://") not in self.hosts:
            return _refuse(403, "requests from other sites are refused")
        if not self._token_ok(request, write):
            return _refuse(403, "open the address the studio printed (it carries a token)")
        return None

    def _token_ok(self, request: Request, write: bool) -> bool:
        given = request.headers.get("x-studio-token", "") if write else (
            request.query_params.get("token") or request.cookies.get(COOKIE, ""))
        return hmac.compare_digest(given.encode(), self.token.encode())


def _refuse(status: int, message: str) -> Response:
    """A JSON error; text the request brought (a lone surrogate, say) is shown escaped."""
    shown = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse({"error": shown}, status_code=status)


def create_app(studio: Studio, guard: Guard) -> Starlette:
    def guarded(handler: Handler, write: bool = False) -> Handler:
        async def endpoint(request: Request) -> Response:
            return guard.refusal(request, write) or await handler(request)
        return endpoint

    async def page(request: Request) -> Response:
        response = HTMLResponse(served_page(studio, guard.token))
        response.set_cookie(COOKIE, guard.token, httponly=True, samesite="strict")
        return response

    grid = Grid()
    cast = Cast(studio.root / ".storyboard" / "thumbs" / "cast")

    async def season(request: Request) -> Response:
        """The episode grid: a tile per episode, each opening its section of the page."""
        response = HTMLResponse(await asyncio.to_thread(season_page, studio, grid),
                                headers={"Cache-Control": "no-store"})
        response.set_cookie(COOKIE, guard.token, httponly=True, samesite="strict")
        return response

    async def season_cast(request: Request) -> Response:
        """The cast across the season: a strip per character."""
        response = HTMLResponse(await asyncio.to_thread(cast_page, studio, cast),
                                headers={"Cache-Control": "no-store"})
        response.set_cookie(COOKIE, guard.token, httponly=True, samesite="strict")
        return response

    async def sheet(request: Request) -> Response:
        return HTMLResponse(served_page(studio, guard.token))

    async def state(request: Request) -> Response:
        snap = studio.snapshot
        return JSONResponse({"version": snap.version, "phase": snap.phase, "errors": snap.errors,
                             "problems": snap.problems, "paid": snap.paid, **snap.figures})

    async def events(request: Request) -> Response:
        return StreamingResponse(event_stream(studio, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def part(request: Request) -> Response:
        found = studio.snapshot.current.page.keyed.get(request.path_params["key"])
        if found is None:
            return _refuse(404, "no such part on the page")
        return HTMLResponse(found.html, headers={"X-Part-Tag": found.tag,
                                                 "Cache-Control": "no-store"})

    async def still(request: Request) -> Response:
        path = studio.snapshot.current.page.stills.get(request.path_params["name"])
        try:  # a small JPEG, read off the event loop
            body = await asyncio.to_thread(path.read_bytes) if path is not None else None
        except OSError:
            body = None
        if body is None:
            return _refuse(404, "no such still on the page")
        return Response(body, media_type="image/jpeg", headers={"Cache-Control": KEEP})

    async def crop(request: Request) -> Response:
        """A face the cast's strips show, by the name the page gave it."""
        try:
            path = await asyncio.to_thread(cast.crop, request.path_params["name"])
            body = await asyncio.to_thread(path.read_bytes) if path is not None else None
        except (OSError, StoryboardError):  # a file gone, a frame ffmpeg cannot cut
            body = None
        if body is None:
            return _refuse(404, "no such face on the season page")
        return Response(body, media_type="image/jpeg", headers={"Cache-Control": KEEP})

    async def file(request: Request) -> Response:
        path = served_file(studio, request.path_params["where"], request.path_params["path"])
        return FileResponse(path) if path is not None else _refuse(404, "no such file here")

    async def note(request: Request) -> Response:
        return await write_call(request, lambda data: note_on(
            studio.require_manifest(), _text(data, "shot"), _text(data, "text"),
            take=_take(data), author=studio.author).to_dict(), studio)

    async def pick(request: Request) -> Response:
        """Exactly ``storyboard pick``: the shot's pick line in the lock, nothing else; an
        approved shot's other take only with ``replace_approved`` (as ``--replace-approved``)."""
        return await write_call(request, lambda data: picked(studio, data), studio, restitch=True)

    async def approve(request: Request) -> Response:
        """Exactly ``storyboard approve``: the picked take locked as approved; a take with
        findings only with ``force`` (as ``--force``)."""
        return await write_call(request, lambda data: {"shot": _text(data, "shot"), "approved":
                                approve_checked(studio.require_manifest(), _text(data, "shot"),
                                                force=_flag(data, "force"))},
                                studio, restitch=True)

    async def approve_boards(request: Request) -> Response:
        """Exactly ``storyboard approve SERIES boards/EP``: each board of the episode approved
        (its picked or only take), the others skipped with why; none with findings unforced."""
        return await write_call(request, lambda data: episode_boards(studio, data), studio,
                                restitch=True)

    def proposal(accept: bool) -> Handler:
        """Accept or dismiss a waiting breakdown's proposal (``proposals.settle``): only a file
        the breakdown says one waits beside, with the digest the page showed."""
        async def handler(request: Request) -> Response:
            return await write_call(request, lambda data: settle(
                studio.root, studio.lookout, _text(data, "file"), _text(data, "digest"),
                accept), studio, restitch=True)
        return handler

    routes = [Route("/", guarded(page)), Route("/sheet", guarded(sheet)),
              Route("/season", guarded(season)),
              Route("/season/cast", guarded(season_cast)),
              Route("/season/crop/{name:str}", guarded(crop)),
              Route("/state", guarded(state)), Route("/events", guarded(events)),
              Route("/part/{key:str}", guarded(part)), Route("/still/{name:str}", guarded(still)),
              Route("/file/{where:str}/{path:path}", guarded(file))]
    routes += [Route(path, guarded(handler, write=True), methods=["POST"])
               for path, handler in (("/notes", note), ("/pick", pick), ("/approve", approve),
                                     ("/approve-boards", approve_boards),
                                     ("/proposal/accept", proposal(True)),
                                     ("/proposal/dismiss", proposal(False)))]
    return Starlette(routes=routes)


def picked(studio: Studio, data: dict[str, Any]) -> dict[str, Any]:
    take = _take(data)
    if take is None:
        raise ValueError("expected 'take' as a positive whole number")
    takes.pick(studio.require_manifest(), _text(data, "shot"), take,
               replace_approved=_flag(data, "replace_approved"))
    return {"shot": data["shot"], "picked": take}


def episode_boards(studio: Studio, data: dict[str, Any]) -> dict[str, Any]:
    manifest = studio.require_manifest()
    episode = _text(data, "episode")
    done = approve_boards(manifest, boards_named(manifest, f"{BOARDS}/{episode}"))
    return {"episode": episode,
            "approved": [{"board": o.board, "take": o.take} for o in done if o.take],
            "skipped": [{"board": o.board, "why": o.why} for o in done if o.take is None]}


WriteFn = Callable[[dict[str, Any]], dict[str, Any]]


async def write_call(request: Request, action: WriteFn, studio: Studio, *,
                     restitch: bool = False) -> Response:
    """Read a small JSON body, run ``action`` off the event loop, then rebuild the page (and,
    after a pick, stitch the drafts again with the take now used)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BODY:
        return _refuse(400, f"expected a JSON body of at most {MAX_BODY} bytes")
    try:
        data = json.loads(await request.body())
        if not isinstance(data, dict):
            raise ValueError("not an object")
        result = await asyncio.to_thread(action, data)
    except RecursionError:
        return _refuse(400, "expected a flat JSON object, not one nested this deep")
    except (HasFindings, takes.ApprovedTake) as error:  # the page asks, then sends it again
        return _refuse(409, str(error))
    except (ValueError, StoryboardError) as error:
        return _refuse(400, str(error))
    except OSError as error:
        return _refuse(500, f"cannot write: {error.strerror or error}")
    await asyncio.to_thread(studio.refresh if restitch else studio.republish)
    return JSONResponse(result)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"expected '{key}' as text")
    return value


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"expected '{key}' as true or false")
    return value


def _take(data: dict[str, Any]) -> int | None:
    value = data.get("take")
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ValueError("expected 'take' as a positive whole number")


async def event_stream(studio: Studio, request: Request) -> AsyncIterator[bytes]:
    """Server-sent events: the current version at once, then one event per publish."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()

    def heard(version: int, event: str) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (version, event))

    unsubscribe = studio.subscribe(heard)
    try:
        yield _event(studio.snapshot.current.event)
        while not (studio.closed or await request.is_disconnected()):
            try:
                version, event = await asyncio.wait_for(queue.get(), timeout=15)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if version == CLOSED:  # the studio stops: end the stream, so it can stop at once
                return
            yield _event(event)
    finally:
        unsubscribe()


def _event(event: str) -> bytes:
    return f"data: {event}\n\n".encode()


def season_page(studio: Studio, grid: Grid) -> str:
    """The grid of the manifest the last check compiled (its tiles kept while the lock and the
    journal are the same); a waiting page before the first check or for a series that does not
    load."""
    manifest, snap = studio.manifest, studio.snapshot
    if manifest is None:
        return waiting_page(studio.root.name, "starting" if snap.phase == "starting" else
                            "the series does not load: its problems are on the studio's page")
    note = (f"{snap.errors} error(s): see the studio's page" if snap.errors else
            "the last save does not load: see the studio's page" if snap.phase == "error" else "")
    sheet = snap.current.page.sheet
    covers = covers_of(sheet.episodes) if sheet is not None else {}
    return grid_page(manifest.title or studio.root.name, grid.tiles(manifest), note, covers)


def cast_page(studio: Studio, cast: Cast) -> str:
    """The cast's strips of the manifest the last check compiled (kept while the lock and the
    journal are the same); a waiting page before the first check or for a series that does not
    load."""
    manifest = studio.manifest
    title = manifest.title or studio.root.name if manifest is not None else studio.root.name
    if manifest is None:
        return waiting_page(title, "starting" if studio.snapshot.phase == "starting" else
                            "the series does not load: its problems are on the studio's page")
    return cast_page_html(title, cast.strips(manifest, stamp(manifest)))


def served_page(studio: Studio, token: str) -> str:
    """The page as the studio serves it: the sheet (its links already the studio's), the live
    client, and the tag of each part (so the client fetches only what a save changed)."""
    shown = studio.snapshot.current
    return inject(shown.page.whole, token, shown)


def served_file(studio: Studio, where: str, path: str) -> Path | None:
    """A file inside the series folder or its draft output; None for anything else, a link out
    included (the path is resolved before it is compared)."""
    roots = {"draft": studio.draft_dir, "series": studio.root}
    root = roots.get(where)
    name = unquote(path)
    if root is None or "\0" in name:
        return None
    try:
        target = (root / name).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
    except (OSError, ValueError):  # a name too long, a loop of links: no such file here
        return None
    if where == "series" and ".storyboard" in target.relative_to(root).parts[:1] and \
            target.name not in cast_files(studio):
        return None  # the series' state (journal, cache) is not for the page, a cast take's aside
    return target


def cast_files(studio: Studio) -> set[str]:
    """The cached files of every take of the cast the manifest names (a voice's clip, say): the
    only files under ``.storyboard`` the page may have."""
    manifest = studio.manifest
    if manifest is None:
        return set()
    return {file_name(take.hash) for asset in manifest.cast for take in asset.all_takes()}
