"""Compiled requests into what one target would refuse: its limits, checked before anything is paid.

Native limits are checked while resolving (they are the model's); a gateway narrows them (shorter
shots, no first frame, no voices, files only at public URLs). Each problem names the gateway and the
parameter it concerns, so the compiler can place it at the shot's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from storyboard.language.request import (
    MediaItem,
    MediaRef,
    Mention,
    ShotRequest,
    is_portrait,
    is_url,
)
from storyboard.targets import Limits
from storyboard.targets.llm import on_loopback
from storyboard.targets.video.models import family
from storyboard.targets.video.wording import wording_of

Severity = Literal["error", "warning"]
_SCENE_HEAD = re.compile(r"^Scene \d+ \[[^\]]*\]:\s*")
_NATIVE_LABEL = re.compile(r"\b(Image|Video) (\d+)\b")  # a mention as a scene's text writes it


class Target(Protocol):
    """What a check needs of a target: its name, its limits and how it labels a mention
    (a ``targets.wire.gateways.Target`` declaration, or a dialect built from one)."""

    @property
    def name(self) -> str: ...

    @property
    def limits(self) -> Limits: ...

    @property
    def models(self) -> tuple[str, ...]: ...

    def label(self, mention: Mention, /) -> str: ...

    def names_identity(self, url: str, /) -> bool: ...


@dataclass(frozen=True)
class Problem:
    field: str  # the shot's key the problem is about: "duration", "prompt", "cast" ...
    message: str
    severity: Severity = "error"
    once: bool = False  # about a file, not the shot: said at its first use only
    cause: str = ""  # said once for all the messages of one cause (else once per message)

    @property
    def said_as(self) -> str:
        """What makes two problems one: their cause, else their words."""
        return self.cause or self.message


def problems(request: ShotRequest, dialect: Target, media_base_url: str | None,
             local_name: dict[MediaRef, str]) -> list[Problem]:
    """Every way ``request`` breaks ``dialect``'s limits; ``local_name`` shows local files."""
    if family(request.model) not in dialect.models:
        return [Problem("model", f"{dialect.name} sells {', '.join(dialect.models)}, not "
                                 f"{request.model}: render this shot with provider dashscope "
                                 "(the native API serves every model)")]
    return [*_numbers(request, dialect), *_media(request, dialect), *_sizes(request, dialect),
            *[Problem("scenes", said) for said in scene_problems(request, dialect)],
            *_reachable(request, dialect, media_base_url, local_name)]


def scene_seconds(request: ShotRequest) -> list[int]:
    """Each timed scene's length in whole seconds, its window's ends rounded."""
    return [round(s.end) - round(s.start) for s in request.scenes]


def scene_problems(request: ShotRequest, dialect: Target) -> list[str]:
    """Why the timed scenes cannot be the shots of one call on a target that takes them so
    (``Limits.max_scene_shots``), each a sentence; none when they can, or it writes them as prose."""
    limits, name, scenes = dialect.limits, dialect.name, request.scenes
    own = wording_of(request.model)
    if not limits.max_scene_shots or not scenes or own.style != "multi_prompt":
        return []  # Kling 4.0 on the same target: its scenes are prose (no list source found)
    seconds = scene_seconds(request)
    most = min(limits.max_scene_shots, own.max_shots or limits.max_scene_shots)
    who = f"{name} ({request.model})" if most < limits.max_scene_shots else name
    found = [f"{who} takes 1 to {most} timed scenes in one call; this shot "
             f"has {len(scenes)}"] if len(scenes) > most else []
    found += [f"scene {scene.index} lasts {length} s; {request.model} takes at most "
              f"{own.max_seconds} s a scene" for scene, length in zip(scenes, seconds, strict=True)
              if own.max_seconds and length > own.max_seconds]
    if min(seconds) < 1 or any(not float(t).is_integer() for s in scenes for t in (s.start, s.end)):
        found.append(f"{name}'s timed scenes last whole seconds, at least 1 each")
    if sum(seconds) != request.duration:
        found.append(f"{name}'s timed scenes must add up to the shot's duration "
                     f"({request.duration} s); these add up to {sum(seconds)} s")
    found += [f"scene {scene.index}'s text has {len(text)} characters; {name} takes at most "
              f"{limits.scene_prompt_limit} a scene"
              for scene, text in zip(scenes, scene_texts(request, dialect), strict=True)
              if len(text) > limits.scene_prompt_limit]
    return found


def scene_texts(request: ShotRequest, dialect: Target) -> list[str]:
    """Each scene's text with its mentions written as ``dialect`` labels them, without the
    "Scene 1 [0-3s]: " the prompt gives it (a shot of its own carries its seconds)."""
    def write(match: re.Match[str]) -> str:
        index = int(match.group(2))
        return dialect.label(Mention("", "image", index) if match.group(1) == "Image"
                             else Mention("", "video", index))
    return [_NATIVE_LABEL.sub(write, _SCENE_HEAD.sub("", s.text, count=1))
            for s in request.scenes]


def _numbers(request: ShotRequest, dialect: Target) -> Iterator[Problem]:
    limits, name = dialect.limits, dialect.name
    low, high = limits.duration_range(request)
    if not low <= request.duration <= high:
        why = " with a reference video" if request.has_video_reference else ""
        yield Problem("duration", f"a {request.duration} s shot; {name} accepts {low} to {high} "
                                  f"s{why}")
    if request.ratio not in limits.ratios:
        yield Problem("ratio", f"ratio {request.ratio}; {name} accepts {', '.join(limits.ratios)}")
    if request.resolution not in limits.resolutions:
        yield Problem("resolution", f"resolution {request.resolution}; {name} accepts "
                                    f"{', '.join(limits.resolutions)}")
    prompt = request.prompt_in(dialect.label)
    if len(prompt) > limits.prompt_limit:
        yield Problem("prompt", f"the compiled prompt has {len(prompt)} characters; {name} "
                                f"accepts at most {limits.prompt_limit}")


def _media(request: ShotRequest, dialect: Target) -> Iterator[Problem]:
    limits, name = dialect.limits, dialect.name
    count = len(request.references)
    if not limits.min_references <= count <= limits.max_references:
        yield Problem("cast", f"{count} reference(s); {name} needs {limits.min_references} to "
                              f"{limits.max_references} images and videos together")
    if request.first_frame is not None and not limits.first_frame:
        yield Problem("first_frame", f"{name} takes no first frame: it is not sent, the shot "
                                     "starts from a picture of its own", "warning")
    voiced = [m for m in request.media if m.voice is not None]
    if limits.voice_to_first_image:
        yield from _first_image_voice(voiced, name)
        return
    for item in voiced:
        if item.role not in limits.voice_roles:
            yield Problem("cast", f"{name} takes no reference voice on {_kind(item)}: the "
                                  f"voice of {item.character or item.label} is not sent",
                          "warning")
    if len(voiced) > limits.max_voices > 0:
        yield Problem("cast", f"{name} takes {limits.max_voices} reference voice(s) a shot: only "
                              f"the first is sent", "warning")


def _first_image_voice(voiced: list[MediaItem], name: str) -> Iterator[Problem]:
    """A target whose one voice speaks as Image1: the dialect puts the voiced image first, which
    is impossible for two voices or a voice on a video."""
    who = ", ".join(item.character or item.label or "?" for item in voiced)
    if len(voiced) > 1:
        yield Problem("cast", f"{len(voiced)} voiced characters in one shot ({who}); {name} "
                              "takes one reference voice, given to Image1: keep one voice in "
                              "this shot")
    for item in voiced:
        if item.role != "reference_image":
            yield Problem("cast", f"{name} gives its one reference voice to Image1, and "
                                  f"{item.character or item.label} is {_kind(item)}: give the "
                                  "voice to an image reference")


def _sizes(request: ShotRequest, dialect: Target) -> Iterator[Problem]:
    """Local files over the gateway's size limit (URLs are the host's business)."""
    for item in request.media:
        path = item.ref.path if item.ref is not None else None
        if path is None or not path.is_file():
            continue
        video = item.role == "reference_video"
        limit = dialect.limits.video_max_mb if video else dialect.limits.image_max_mb
        size = path.stat().st_size / (1024 * 1024)
        if size > limit:
            yield Problem("cast", f"{path.name} is {size:.1f} MB; {dialect.name} accepts "
                                  f"{_kind(item)} of at most {limit:g} MB")


def _kind(item: MediaItem) -> str:
    return "a video" if item.role == "reference_video" else "an image"


def _reachable(request: ShotRequest, dialect: Target, media_base_url: str | None,
               local_name: dict[MediaRef, str]) -> Iterator[Problem]:
    """A gateway that fetches public URLs needs every file at one: local files under
    ``media_base_url``, and no ``oss://`` or ``data:`` URLs (DashScope's own)."""
    if not dialect.limits.public_urls:
        return
    for item in request.media:
        if item.role == "first_frame" and not dialect.limits.first_frame:
            continue  # not sent at all (``_media`` says so once): no URL is needed for it
        for ref in (item.ref, item.voice):
            if ref is None:
                continue
            if ref.asset is not None and not media_base_url and is_portrait(ref.asset):
                yield Problem("cast", f"{ref.asset} is made in {dialect.name}'s asset library "
                                      "from the character's sheet, which the vendor fetches "
                                      "from a public URL: set provider.media_base_url to where "
                                      "the series folder (with .storyboard/cache/dashscope) is "
                                      "hosted", once=True)
            elif ref.asset is not None and not media_base_url:
                # made (by dashscope), it is a file of the series' cache: hosted with the folder
                yield Problem("cast", f"{ref.asset} is made from words, and {dialect.name} "
                                      "renders video only and fetches files from public URLs: "
                                      "make the cast with dashscope and set "
                                      "provider.media_base_url to where the series folder "
                                      "(with .storyboard/cache/dashscope) is hosted, or name "
                                      "the files (image: PATH) for this gateway", once=True)
            elif ref.asset is not None:
                continue
            elif ref.url is not None and dialect.names_identity(ref.url):
                continue  # a face registered with the vendor: no file to fetch
            elif ref.url is not None and not ref.url.startswith(("https://", "http://")):
                yield Problem("cast", f"{name_of(ref)}: {dialect.name} fetches files from "
                                      "public http(s) URLs only", once=True)
            elif ref.url is not None and _insecure(ref.url, dialect):
                yield Problem("cast", f"{name_of(ref)}: {dialect.name} fetches files from "
                                      "https:// URLs only", once=True)
            elif ref.path is not None and not media_base_url:
                # one cause, whichever file: said once for the series, not once a file
                yield Problem("cast", f"this series' files are local (this shot's first: "
                                      f"{local_name.get(ref, str(ref.path))}) and "
                                      f"{dialect.name} fetches files from public URLs: set "
                                      "provider.media_base_url to where the series folder is "
                                      "hosted, or give each file a URL", once=True,
                              cause="local files")
        if media_base_url and _insecure(media_base_url, dialect) and (
                item.from_shot is not None or any(r is not None and r.local
                                                  for r in (item.ref, item.voice))):
            yield Problem("cast", f"provider.media_base_url {name_of(MediaRef(url=media_base_url))}"
                                  f": {dialect.name} fetches files from https:// URLs only",
                          once=True)
        if item.from_shot is not None and not media_base_url:
            yield Problem("first_frame", f"the first frame of shot {item.from_shot} is rendered "
                                         f"here and {dialect.name} fetches files from public "
                                         "URLs: set provider.media_base_url to where the series "
                                         "folder (with .storyboard/frames) is hosted")


def _insecure(url: str, dialect: Target) -> bool:
    return dialect.limits.https_only and insecure_url(url)


def insecure_url(url: str) -> bool:
    """An ``http://`` URL, on a host other than loopback (which only a local emulator can reach:
    the tests' media server)."""
    return url.startswith("http://") and not on_loopback(url)


def name_of(ref: MediaRef) -> str:
    text = str(ref)
    return text if len(text) <= 60 else text[:57] + "..."


def is_public(value: str) -> bool:
    return is_url(value) and value.startswith(("https://", "http://"))
