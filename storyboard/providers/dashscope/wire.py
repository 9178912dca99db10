"""DashScope's words into ours: its constants, its ``TaskProtocol`` declaration, its answer parsers.

Mostly declarations, like a dialect: paths, status words, regions, limits, prices, plus the small
functions that read its submit, query and list answers (numbers may arrive as strings or floats).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storyboard.errors import Diagnostic, ProviderError, UnreadAnswer
from storyboard.language.request import CompiledShot
from storyboard.providers.protocol import list_items, number
from storyboard.targets import TaskProtocol, TaskState, Usage
from storyboard.targets.video.models import model_of
from storyboard.targets.wire.gateways import (
    DASHSCOPE_KEY_ENV,
    DASHSCOPE_NAME,
    DASHSCOPE_PROTOCOL,
    DASHSCOPE_REGIONS,
)

NAME = DASHSCOPE_NAME
KEY_ENV = DASHSCOPE_KEY_ENV
BASE_URL_ENV = "DASHSCOPE_HTTP_BASE_URL"  # the official SDK's name for it
REGIONS = DASHSCOPE_REGIONS  # the public hosts: intl and cn
# Workspace hosts (wan3.0's official examples use only these): our region -> theirs. ``us`` and
# ``hk`` have no public host: they need a workspace. Their prices are the intl (USD) ones.
WORKSPACE_REGIONS = {"intl": "ap-southeast-1", "cn": "cn-beijing", "us": "us-east-1",
                     "hk": "cn-hongkong"}
WORKSPACE_HOST = "https://{workspace}.{region}.maas.aliyuncs.com/api/v1"
WORKSPACE_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")  # one DNS label
UPLOAD_POLICY_PATH = "/uploads"
OSS_RESOLVE_HEADER = "X-DashScope-OssResourceResolve"
DASHSCOPE = DASHSCOPE_PROTOCOL



# Public hosts being retired in favour of workspace hosts (wan3.0's official examples use only
# those): what to do instead.
RETIRING_HOSTS = {REGIONS["intl"]: "the Singapore public host is being retired in favour of "
                                   "workspace hosts: set provider.workspace to your workspace id "
                                   "(https://ID.ap-southeast-1.maas.aliyuncs.com/api/v1)"}


def retiring(url: str) -> str | None:
    """Why a host should not be relied on (None for a host that stays)."""
    return RETIRING_HOSTS.get(url.rstrip("/"))


def workspace_url(workspace: str, region: str) -> str:
    """The API root of a workspace in a region: ``https://ID.ap-southeast-1.maas...``."""
    return WORKSPACE_HOST.format(workspace=workspace, region=WORKSPACE_REGIONS[region])


def region_refusals(shots: list[CompiledShot], region: str | None) -> list[Diagnostic]:
    """A located error for each shot whose model ``region`` does not serve (videoretalk, the
    lip-sync pass: Beijing only), said before anything is sent; none for a host of your own
    (``region`` None)."""
    found = []
    for shot in shots:
        model = model_of(shot.request.model)
        if region is None or model is None or not model.regions or region in model.regions:
            continue
        found.append(Diagnostic(shot.span, (
            f"{shot.episode}/{shot.id}: {model.id} is served in DashScope's "
            f"{', '.join(model.regions)} region only, and this series renders in {region}: set "
            f"provider.region: {model.regions[0]} (with that region's key); nothing was sent"),
            code="model-region"))
    return found


def price_region(region: str) -> str:
    """The region whose list prices apply: ``us`` and ``hk`` bill as ``intl`` (USD)."""
    return region if region in DASHSCOPE.prices else "intl"


LIST_WINDOW = 24 * 3600.0  # the list call accepts at most 24 h, and tasks live 24 h
LIST_PAGE_SIZE = 20
LIST_MAX_PAGES = 25  # find() is a rare reconciliation; bound it anyway


# ---------------------------------------------------------------------------------------------
# Answers into our types


def _output(answer: Mapping[str, Any], what: str, shot: str = "") -> dict[str, Any]:
    output = answer.get("output")
    if not isinstance(output, dict):
        raise ProviderError(f"{what}: malformed answer, no 'output' object in {sorted(answer)}",
                            provider=NAME, shot=shot, code=str(answer.get("code") or ""))
    return output


def parse_submit(answer: Mapping[str, Any], *, shot: str = "") -> str:
    """The task id of a submit answer ``{"output": {"task_id", "task_status"}}``. A successful
    answer without one is no refusal: the task may exist, so it is a lost answer."""
    output = answer.get("output")
    task_id = output.get("task_id") if isinstance(output, dict) else None
    if not task_id:
        raise UnreadAnswer("submit: an answer that is neither a task nor a documented refusal "
                           "(no 'output.task_id')", provider=NAME, shot=shot,
                           code="UnreadAnswer")
    return str(task_id)


def parse_usage(usage: object) -> Usage | None:
    """Seconds billed, from numbers that may be ints, floats or strings."""
    if not isinstance(usage, dict):
        return None
    # Wan and HappyHorse say ``*_video_duration``; MiniMax H3 ``input_seconds``/``output_seconds``;
    # videoretalk only ``video_duration`` (its output's seconds: no input video is billed).
    output = number(usage.get("output_video_duration",
                              usage.get("output_seconds", usage.get("video_duration"))))
    source = number(usage.get("input_video_duration", usage.get("input_seconds"))) or 0.0
    if output is None:  # older answers: only ``duration``, the billed total
        total = number(usage.get("duration"))
        if total is None:
            return None
        output = max(total - min(source, 5.0), 0.0)
    return Usage(output_seconds=output, input_video_seconds=source)


def parse_task(answer: Mapping[str, Any], task_id: str = "",
               protocol: TaskProtocol = DASHSCOPE) -> TaskState:
    """A query answer into a ``TaskState``; an unknown status word becomes UNKNOWN, kept in
    ``message``."""
    what = f"query of task {task_id}".strip()
    output = _output(answer, what)
    if "task_status" not in output:
        raise ProviderError(f"{what}: malformed answer, no 'output.task_status'", provider=NAME)
    status, note = protocol.status(output.get("task_status"))
    message = str(output.get("message") or "")
    return TaskState(
        task_id=str(output.get("task_id") or task_id),
        status=status,
        video_url=result_url(output),
        code=str(output.get("code") or ""),
        message="; ".join(m for m in (note, message) if m),
        usage=parse_usage(answer.get("usage")),
        submit_time=str(output.get("submit_time") or ""),
        raw=dict(answer),
        ran=ran(output) if status.finished else None,
    )


STAMP = "%Y-%m-%d %H:%M:%S.%f"  # the answers' times, in the service's zone


def ran(output: Mapping[str, Any]) -> float | None:
    """Seconds from the task's ``submit_time`` to its ``end_time`` (both in one zone, so the
    zone does not matter); None when either is missing or unreadable."""
    try:
        start, end = (datetime.strptime(str(output[name]), STAMP)
                      for name in ("submit_time", "end_time"))
    except (KeyError, ValueError):
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds >= 0 else None


def result_url(output: Mapping[str, Any]) -> str | None:
    """Where a finished task's result is: ``video_url`` for a video, else the first picture of
    an image task (``choices[0].message.content[*].image``)."""
    if output.get("video_url"):
        return str(output["video_url"])
    choices = output.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    for item in content if isinstance(content, list) else []:
        if isinstance(item, dict) and isinstance(item.get("image"), str) and item["image"]:
            return str(item["image"])
    return None


@dataclass(frozen=True)
class Listed:
    task_id: str
    status: str
    created: str  # "YYYY-MM-DD hh:mm:ss.fff", sorts as text


@dataclass(frozen=True)
class ListPage:
    tasks: list[Listed]
    page_no: int
    total_pages: int | None


def parse_list(answer: Mapping[str, Any]) -> ListPage:
    data = list_items(answer, provider=NAME)
    tasks = [Listed(str(item["task_id"]), str(item.get("status") or ""),
                    str(item.get("gmt_create") or ""))
             for item in data if isinstance(item, dict) and item.get("task_id")]
    pages = number(answer.get("total_page"))
    return ListPage(tasks, int(number(answer.get("page_no")) or 1),
                    int(pages) if pages is not None else None)


def utc_stamp(when: float) -> str:
    """``YYYYMMDDhhmmss`` in UTC, the list call's time format."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(when))
