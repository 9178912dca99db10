"""Gateway dialects into emulator routes: each reseller's paths, auth and words over one service.

Every dialect of ``storyboard.dialects`` is served under ``/gw/{name}`` (its base URL) at its
declared paths. A body is read back into the native body (``unwire.unbody``) and goes to the same
``Service`` as the native API, so faults, tasks and submission counts are one machine; answers
are written in the dialect's own words (``Dialect.answer``). A submit with a webhook URL
(Freepik-style) gets a callback on each status change, signed when ``webhook_secret`` is set.
Bodies are checked first against their seed's schema (``bodies``): a 400 names the field, and a
multipart form (the ``openai`` SDK's default) is told to send JSON. With ``fetch_media`` every media
URL is fetched, as a gateway does, and one that cannot be is a 400.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from storyboard import tls
from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.dialects.base import Dialect, get, put
from storyboard.emulator.gateways import portraits, unwire
from storyboard.emulator.gateways.bodies import check_body, check_together, with_video_limit
from storyboard.emulator.service import Service
from storyboard.emulator.state import Task, new_id
from storyboard.emulator.validate import ApiError, invalid
from storyboard.targets import TaskStatus
from storyboard.targets.kinds import has
from storyboard.targets.signatures import jwtokens
from storyboard.targets.signatures.webhooks import sign
from storyboard.targets.video.models import SEEDANCE_SIZES, tokens_per_second

PREFIX = "/gw"


def base_path(name: str) -> str:
    return f"{PREFIX}/{name}"


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _dialect(request: Request) -> Dialect:
    """The dialect named in the path, if the path is one of its own routes."""
    if endpoint_of(request.method, request.url.path) is None:
        raise ApiError(404, "NotFound", f"No route {request.method} {request.url.path}.")
    return DIALECTS[request.path_params["gateway"]]


def check_dialect_auth(request: Request, dialect: Dialect) -> None:
    value = request.headers.get(dialect.auth_header, "")
    scheme, _, key = value.partition(" ") if dialect.auth_scheme else ("", "", value)
    expected = _service(request).config.api_key
    if scheme.lower() != dialect.auth_scheme.lower() or not key.strip() or (
            expected is not None and not _key_matches(dialect, key.strip(), expected)):
        raise ApiError(401, "Unauthorized", "Invalid API key.")


def _key_matches(dialect: Dialect, key: str, expected: str) -> bool:
    """The key itself, or for a key pair a valid token signed with ``expected`` (the secret)."""
    if dialect.secret_env:
        return jwtokens.verify(key, expected) is not None
    return hmac.compare_digest(key, expected)


JSON_ONLY = ("this gateway reads a JSON body (Content-Type: application/json); a multipart "
             "form flattens media[]. With the openai SDK, send extra_headers={'Content-Type': "
             "'application/json'} and the gateway's fields in extra_body")


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object of a submit; a multipart form (the openai SDK's default) is refused."""
    if request.headers.get("content-type", "").lower().startswith("multipart/"):
        raise invalid(JSON_ONLY)
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


async def submit(request: Request) -> Response:
    dialect = _dialect(request)
    check_dialect_auth(request, dialect)
    body = await read_body(request)
    check_body(dialect.name, body)
    service = _service(request)
    portraits.screen(dialect, body, service.config, portraits.active(
        request.app.state, dialect.name, service.clock.now(), service.config.latency))
    native = portraits.stand_ins(dialect, unwire.unbody(dialect, body))
    check_together(dialect.name, native)
    if service.config.fetch_media:
        await fetch_media(native["input"]["media"])
    task = service.submit(native, oss_resolve=False, request_id=new_id(),
                          with_video=with_video_limit(dialect.name))
    task.wire = body
    hook = body.get(dialect.webhook_field) if dialect.webhook_field else None
    if isinstance(hook, str) and hook.startswith(("http://", "https://")):
        origin = str(request.base_url).rstrip("/")
        job = asyncio.get_running_loop().create_task(
            _callbacks(service, dialect, task, hook, origin))
        _JOBS.add(job)
        job.add_done_callback(_JOBS.discard)
    return JSONResponse(submitted(dialect, task))


async def fetch_media(items: list[dict[str, str]]) -> None:
    """Fetch each http(s) URL the body names, as a gateway does; one it cannot get is a 400."""
    urls = {u for item in items for u in (item.get("url"), item.get("reference_voice"))
            if u and u.startswith(("http://", "https://"))}
    async with httpx.AsyncClient(timeout=10.0, verify=tls.context()) as client:
        for url in sorted(urls):
            try:
                answer = await client.get(url, headers={"Range": "bytes=0-1023"})
            except httpx.HTTPError as exc:
                raise ApiError(400, "InvalidURL", f"{url}: cannot be fetched ({exc})") from exc
            if answer.status_code not in (200, 206):
                raise ApiError(400, "InvalidURL",
                               f"{url}: cannot be fetched (HTTP {answer.status_code})")


_JOBS: set[asyncio.Task[None]] = set()
WATCH_EVERY = 0.05


async def _callbacks(service: Service, dialect: Dialect, task: Task, url: str,
                     origin: str) -> None:
    """POST the task's answer, without its ``data`` wrapper, on each status change, signed."""
    last = ""
    async with httpx.AsyncClient(timeout=5.0, verify=tls.context()) as client:
        while True:
            if task.status != last:
                last = task.status
                payload = state_answer(dialect, service, task.task_id, origin)
                await _post(client, service, payload.get("data", payload), url)
            if TaskStatus(task.status).finished or task.status == TaskStatus.UNKNOWN:
                return  # finished, or vanished
            await asyncio.sleep(WATCH_EVERY)


async def _post(client: httpx.AsyncClient, service: Service, payload: Any, url: str) -> None:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    secret = service.config.webhook_secret
    if secret:
        msg_id, stamp = new_id(), int(time.time())
        headers.update({"webhook-id": msg_id, "webhook-timestamp": str(stamp),
                        "webhook-signature": sign(secret, msg_id, stamp, body)})
    try:
        answer = await client.post(url, content=body, headers=headers)
        service.stats.webhooks[str(answer.status_code)] += 1
    except httpx.HTTPError:
        service.stats.webhooks["unreachable"] += 1  # a gateway does not retry forever either


def submitted(dialect: Dialect, task: Task) -> dict[str, Any]:
    spec = dialect.answers
    if not spec.submitted_id:
        return enveloped(dialect, task, unwire.answer(dialect, task.task_id, TaskStatus.PENDING,
                                                       extra=_extra(dialect, task)))
    out: dict[str, Any] = {"code": 200}
    put(out, spec.submitted_id, task.task_id)
    return out


PROGRESS = {"PENDING": 0, "RUNNING": 50}


def _extra(dialect: Dialect, task: Task | None) -> dict[str, Any]:
    """What a task object carries beside its id and status: an OpenAI-style one's (seed 003),
    or the model, times and billed tokens of a wire that bills tokens (Ark's ``usage``)."""
    if task is not None and dialect.answers.tokens:
        return _tokens(dialect, task)
    if not dialect.content_path or task is None:
        return {}
    return {"object": "video", "model": task.submission.model, "task_id": task.task_id,
            "progress": PROGRESS.get(task.status, 100), "created_at": int(task.created)}


def state_answer(dialect: Dialect, service: Service, task_id: str, origin: str
                 ) -> dict[str, Any]:
    """One task in ``dialect``'s words (the query answer, and a webhook's payload)."""
    output = service.query(task_id, origin)
    status = TaskStatus(output["task_status"])
    url = output.get("video_url")
    if dialect.content_path and url:
        url = None  # the video comes from the content path instead
    hop = dialect.protocol.file_hop
    extra = _extra(dialect, service.table.get(task_id))
    if hop is not None and url:  # the video is one more request away: its file is named
        put(extra, hop.file_id, file_id_of(output["task_id"]))
        url = None
    code = str(output.get("code") or "")
    task = service.table.get(task_id)
    return enveloped(dialect, task, unwire.answer(
        dialect, output["task_id"], status, video_url=url,
        code=unwire.own_code(dialect, "task", code),
        message=str(output.get("message") or ""), extra=extra))


async def query(request: Request) -> Response:
    dialect = _dialect(request)
    check_dialect_auth(request, dialect)
    task_id = request.path_params.get("task_id") or request.query_params.get("task_id", "")
    service = _service(request)
    if dialect.protocol.task_lifetime is not None:
        _within_window(service, dialect.protocol.task_lifetime, task_id)
    if service.table.get(task_id) is None:
        raise ApiError(404, "NotFound", f"Task {task_id} does not exist.")
    origin = str(request.base_url).rstrip("/")
    return JSONResponse(state_answer(dialect, service, task_id, origin))


def _within_window(service: Service, lifetime: float, task_id: str) -> None:
    """A wire that forgets tasks after ``lifetime`` (MiniMax: 7 days): an unknown or older task
    id is ``invalid task_id``."""
    task = service.table.tasks.get(task_id)
    if task is None or service.clock.now() - task.created > lifetime:
        raise ApiError(400, "InvalidParameter", "invalid task_id")


def file_id_of(task_id: str) -> str:
    """The file a finished task names on a wire with a file hop: an int64, as MiniMax's are."""
    return str(int(hashlib.sha256(task_id.encode()).hexdigest()[:15], 16))


async def retrieve(request: Request) -> Response:
    """A file hop's answer: the file a finished task names, with its download URL."""
    dialect = _dialect(request)
    check_dialect_auth(request, dialect)
    hop = dialect.protocol.file_hop
    file_id = request.query_params.get("file_id", "")
    service = _service(request)
    task = next((t for t in service.table.tasks.values() if file_id_of(t.task_id) == file_id),
                None)
    if hop is None or task is None or service.table.get(task.task_id) is None \
            or task.status != "SUCCEEDED":
        raise ApiError(404, "NotFound", f"file {file_id} does not exist")
    out: dict[str, Any] = {}
    url = service.query(task.task_id, str(request.base_url).rstrip("/")).get("video_url")
    put(out, hop.url, url)
    put(out, hop.url.rsplit(".", 1)[0] + ".file_id", int(file_id))
    put(out, hop.url.rsplit(".", 1)[0] + ".filename", "output.mp4")
    put(out, "base_resp", {"status_code": 0, "status_msg": "success"})
    return JSONResponse(out)


async def list_tasks(request: Request) -> Response:
    dialect = _dialect(request)
    check_dialect_auth(request, dialect)
    service = _service(request)
    if not dialect.answers.item_prompt:  # Ark: task objects, filtered, page by page
        return JSONResponse(_paged(dialect, service, request))
    items = [_listed(dialect, task) for task in service.table.tasks.values()]
    out: dict[str, Any] = {}
    put(out, dialect.answers.items, items)
    if dialect.envelope:
        out = {"code": 0, "message": "SUCCEED", "request_id": new_id(), **out}
    return JSONResponse(out)


ARK_PAGE_SIZE = 10  # Ark's page size when none is asked (B2 names no default: a guess)


def _paged(dialect: Dialect, service: Service, request: Request) -> dict[str, Any]:
    """Ark's list (vendors.md 2, its SDK's ``tasks.list``): every task as its query answers it,
    newest first, filtered by ``filter.model``, ``filter.status`` and ``filter.task_ids``, one
    page (``page_num`` from 1, ``page_size``) with the ``total`` that match."""
    query = request.query_params
    ids = set(query.getlist("filter.task_ids"))
    model, word = query.get("filter.model"), query.get("filter.status")
    origin = str(request.base_url).rstrip("/")
    answers = [state_answer(dialect, service, task.task_id, origin)
               for task in sorted(service.table.tasks.values(), key=lambda t: -t.created)
               if (not model or task.submission.model == model)
               and (not ids or task.task_id in ids)]
    answers = [a for a in answers if not word or a.get("status") == word]
    size = _whole(query.get("page_size"), ARK_PAGE_SIZE)
    start = (_whole(query.get("page_num"), 1) - 1) * size
    return {"total": len(answers), "items": answers[start:start + size]}


def _whole(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise invalid(f"page_num and page_size must be whole numbers from 1, not {text!r}")
    return int(text)


def _listed(dialect: Dialect, task: Task) -> dict[str, Any]:
    word = unwire.word(dialect, TaskStatus(task.status)) if task.status in TaskStatus.__members__ \
        else task.status
    if dialect.envelope:  # Kling's task objects, with the prompt (a guess: see list_path)
        own = enveloped(dialect, task, unwire.answer(dialect, task.task_id, TaskStatus(task.status)))
        return {**own["data"], dialect.answers.item_prompt: task.submission.prompt}
    return {"task_id": task.task_id, "id": task.task_id, "status": word,
            "created_at": int(task.created), dialect.answers.item_prompt: task.submission.prompt}


async def content(request: Request) -> Response:
    dialect = _dialect(request)
    check_dialect_auth(request, dialect)
    task = _service(request).table.get(request.path_params["task_id"])
    if task is None or task.status != "SUCCEEDED" or task.video is None:
        raise ApiError(404, "NotFound", "The video is not ready.")
    return FileResponse(task.video, media_type="video/mp4")


def _route(path: str) -> str:
    return f"{PREFIX}/{{gateway}}{path.partition('?')[0]}"  # a query string is read by its handler


def routes() -> list[Route]:
    """Every gateway's routes; the path parameter ``gateway`` picks the dialect."""
    found: dict[tuple[str, str], Route] = {}
    for name in GATEWAYS:
        dialect = DIALECTS[name]
        proto = dialect.protocol
        wanted = [(proto.submit_path, submit, "POST"), (proto.task_path, query, "GET")]
        wanted += [(proto.list_path, list_tasks, "GET")] if proto.list_path else []
        wanted += [(dialect.content_path, content, "GET")] if dialect.content_path else []
        wanted += [(proto.file_hop.path, retrieve, "GET")] if proto.file_hop else []
        for path, handler, method in wanted:
            key = (_route(path), method)
            found.setdefault(key, Route(key[0], handler, methods=[method]))
    return list(found.values())


def endpoint_of(method: str, path: str) -> str | None:
    """Which counted endpoint a gateway request is (submit, query, list, download), or None."""
    match = re.match(rf"^{PREFIX}/([^/]+)(/.*)$", path)
    dialect = DIALECTS.get(match.group(1)) if match else None
    if match is None or dialect is None or not has(dialect.name, "gateway"):
        return None
    proto, rest = dialect.protocol, match.group(2)
    hop = proto.file_hop.path if proto.file_hop else None
    table = [("POST", proto.submit_path, "submit"), ("GET", proto.list_path, "list"),
             ("GET", dialect.content_path, "download"), ("GET", hop, "file"),
             ("GET", proto.task_path, "query")]
    for verb, template, name in table:
        if template and verb == method and _pattern(template).match(rest):
            return name
    return None


def _pattern(template: str) -> re.Pattern[str]:
    path = template.partition("?")[0]  # ``?task_id={task_id}``: a query string, not the path
    return re.compile("^" + re.escape(path).replace(r"\{task_id\}", "[^/]+") + "/?$")


def own_error(path: str, endpoint: str, code: str, message: str, status: int
              ) -> tuple[int, bytes] | None:
    """A gateway's error answer (its HTTP status and body) in its own words where it declares
    them (Ark's ``{"error": {code, message}}``, Kling's envelope, MiniMax's own bodies: v1's
    with HTTP 200), else None (the native body)."""
    match = re.match(rf"^{PREFIX}/([^/]+)/", path)
    dialect = DIALECTS.get(match.group(1)) if match else None
    if dialect is None or dialect.name not in unwire.OWN_CODES:
        return None
    own = unwire.own_code(dialect, endpoint, code)
    own_body = unwire.error_body(dialect)
    if own_body is not None:  # MiniMax: its own bodies (v1's in HTTP 200 answers)
        status, body = own_body(status, own, message)
        return status, json.dumps(body).encode()
    if dialect.envelope:  # Kling: ``{code, message, request_id}``, its code a number
        return status, json.dumps({"code": int(own) if own.isdigit() else own,
                                   "message": message, "request_id": new_id()}).encode()
    return status, json.dumps({"error": {"code": own, "message": message}}).encode()


def enveloped(dialect: Dialect, task: Task | None, out: dict[str, Any]) -> dict[str, Any]:
    """A task answer in Kling's envelope (vendors.md section 4): ``{code: 0, message,
    request_id, data: {task_id, task_status, task_status_msg, task_info: {external_task_id},
    task_result: {videos: [{id, url, duration}]}, created_at, updated_at}}``, times in
    milliseconds, the duration a string. A failed task's code, which Kling's schema does not
    show, is kept in ``task_status_code`` (storyboard's guess). Other wires: ``out`` as it is."""
    if not dialect.envelope or unwire.error_body(dialect) is not None or task is None:
        return out  # MiniMax's v1 envelope is its answers' own ``base_resp``
    data = out.get("data", {})
    url = get(data, "task_result.videos.0.url")
    seconds = str(task.submission.duration)
    videos = [{"id": task.task_id, "url": url, "duration": seconds}] if url else []
    own = {"task_id": data.get("task_id"), "task_status": data.get("task_status"),
           "task_status_msg": data.get("task_status_msg") or "",
           "task_info": {"external_task_id": ""}, "task_result": {"videos": videos},
           "created_at": int(task.created * 1000), "updated_at": int(time.time() * 1000)}
    if data.get("task_status_code"):
        own["task_status_code"] = data["task_status_code"]
    return {"code": 0, "message": "SUCCEED", "request_id": new_id(), "data": own}


ODD_CODES: dict[str, Any] = {"unknown": 1999, "string": "error", "list": [1026], "null": None,
                             "huge": 10**30}


def odd_envelope(path: str, shape: str) -> dict[str, Any]:
    """A submit's answer with no task id and an odd code (``ODD_CODES``) where the gateway
    ``path`` is under keeps its envelope's (``code`` where it has none): the ``envelope`` fault."""
    match = re.match(rf"^{PREFIX}/([^/]+)/", path)
    dialect = DIALECTS.get(match.group(1)) if match else None
    out: dict[str, Any] = {}
    put(out, (dialect.envelope if dialect is not None else "") or "code", ODD_CODES[shape])
    if dialect is not None and dialect.envelope == dialect.answers.code:
        put(out, dialect.answers.message, "unexpected")  # MiniMax v1's base_resp.status_msg
    return out


def envelope_error(path: str, code: str, message: str, status: int
                   ) -> tuple[int, bytes] | None:
    """A route's error in the envelope or the own words of the gateway ``path`` is under
    (Kling, MiniMax; Ark's ``{"error": {code, message}}``), else None."""
    match = re.match(rf"^{PREFIX}/([^/]+)/", path)
    dialect = DIALECTS.get(match.group(1)) if match else None
    worded = dialect is not None and (dialect.envelope or unwire.error_body(dialect) is not None
                                      or dialect.name in unwire.OWN_CODES)
    return own_error(path, "", code, message, status) if worded else None


def _tokens(dialect: Dialect, task: Task) -> dict[str, Any]:
    """Ark's task fields: model, unix times, and once it succeeded the tokens it bills (output
    seconds at the size's tokens a second; the reference videos' seconds are not measured)."""
    sub = task.submission
    # A seed not sent is one the service drew: told, as Ark tells it (here from the task id).
    seed = sub.seed if sub.seed is not None else int(task.task_id.encode().hex()[-8:], 16)
    out: dict[str, Any] = {"model": sub.model, "created_at": int(task.created),
                           "updated_at": int(time.time()), "duration": sub.duration,
                           "resolution": sub.resolution.lower(), "ratio": sub.ratio,
                           "seed": seed}
    if task.status == TaskStatus.SUCCEEDED and (sub.resolution, sub.ratio) in SEEDANCE_SIZES:
        tokens = tokens_per_second(sub.resolution, sub.ratio) * sub.duration
        put(out, dialect.answers.tokens, tokens)
        out.setdefault("usage", {})["total_tokens"] = tokens
    return out
