"""Media URLs into a verdict before the first paid submit: is each file where the gateway looks?

A gateway fetches every local file of a shot at ``provider.media_base_url`` plus its path in the
series folder. A wrong base URL, a file not uploaded yet or an older copy on the host passes every
check and fails only at the gateway, after the user waited (or paid). So before anything is paid,
each distinct URL the run will send is fetched once (a ranged GET of its first bytes), and its size
and the sha256 of those bytes are compared with the local file. Any mismatch or error stops the
run, naming the URL and what was found; nothing has been submitted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from storyboard import tls
from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot
from storyboard.providers import stillcopy
from storyboard.providers.base import Provider

if TYPE_CHECKING:  # imported where a URL is fetched: a run with no gateway loads no HTTP
    import httpx

PROBE = 64 * 1024  # bytes compared at the head of each file
TIMEOUT = 20.0


class MediaMismatch(StoryboardError):
    """A file the gateway would fetch is missing, unreachable or not the local one."""


def media_base_url(provider: Provider) -> str | None:
    """The provider's ``media_base_url``, for a gateway that fetches files from one."""
    return provider.media_base_url if provider.traits.public_media else None


def local_urls(shots: Iterable[CompiledShot], root: Path, base: str) -> dict[str, Path]:
    """Each distinct URL the shots' local files are sent as, and the file behind it: a still
    larger than the shot's model takes is sent as its scaled copy (``stillcopy.hosted``, drawn
    here when missing), so that copy is what must be hosted."""
    found: dict[str, Path] = {}
    top = root.resolve()
    for shot in shots:
        for item in shot.request.media:
            for ref in (item.ref, item.voice):
                if ref is None or ref.path is None:
                    continue
                sent = stillcopy.hosted(ref, shot.request.model, root).path or ref.path
                try:
                    relative = sent.resolve().relative_to(top).as_posix()
                except ValueError:
                    continue  # check refuses a file outside the series folder
                found.setdefault(f"{base}/{quote(relative)}", sent)
    return found


def check_media(provider: Any, shots: Iterable[CompiledShot], root: Path, *,
                transport: httpx.BaseTransport | None = None) -> None:
    """Stop, before anything is paid, when a URL the gateway will fetch is not the local file."""
    base = media_base_url(provider)
    if base is None:
        return
    urls = local_urls(shots, root, base)
    if not urls:
        return
    import httpx
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True, transport=transport,
                      verify=tls.context()) as client:
        problems = [p for url, path in sorted(urls.items())
                    if (p := compare(client, url, path, root)) is not None]
    if problems:
        raise MediaMismatch(
            f"provider.media_base_url {base}: {len(problems)} of {len(urls)} file(s) are not "
            "where the gateway will fetch them; nothing was submitted. Upload the series folder "
            "there (or fix media_base_url):\n  " + "\n  ".join(problems))


def compare(client: httpx.Client, url: str, path: Path, root: Path) -> str | None:
    """What is wrong with ``url`` as the copy of ``path``, or None when it matches."""
    import httpx
    name = _shown(path, root)
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(PROBE)
    try:
        found_size, found_head = _fetch(client, url, len(head))
    except httpx.HTTPStatusError as exc:
        return f"{url}: HTTP {exc.response.status_code} (expected {name})"
    except httpx.HTTPError as exc:
        return f"{url}: cannot be fetched ({type(exc).__name__}: {exc}) (expected {name})"
    if found_size is not None and found_size != size:
        return f"{url}: {found_size} bytes there, {size} in {name}"
    if found_head != head:
        return (f"{url}: its first {len(head)} bytes differ from {name} (sha256 "
                f"{_digest(found_head)} there, {_digest(head)} here)")
    return None


def _fetch(client: httpx.Client, url: str, count: int) -> tuple[int | None, bytes]:
    """The file's total size (when the host says it) and its first ``count`` bytes."""
    wanted = {"Range": f"bytes=0-{max(count - 1, 0)}"}
    with client.stream("GET", url, headers=wanted) as answer:
        answer.raise_for_status()
        head = b""
        for chunk in answer.iter_bytes():
            head += chunk
            if len(head) >= count:
                break
        return _total(answer), head[:count]


def _total(answer: httpx.Response) -> int | None:
    span = re.fullmatch(r"bytes \d+-\d+/(\d+)", answer.headers.get("content-range", ""))
    if answer.status_code == 206:
        return int(span.group(1)) if span else None
    length = answer.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
