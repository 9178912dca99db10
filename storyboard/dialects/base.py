"""Dialect declarations into bodies and answers: what every dialect is, and the shared machinery.

A dialect is mostly data (sqlglot-style): its ``Limits``, its label style, its field names (a
neutral name -> a dotted path in its body), its task protocol (paths, status words onto the one
``TaskStatus`` machine, prices per second or per generation), its auth header and key variable, and
where its answers keep the task id, status and video. One small function is its own: ``media``
(the neutral media array into its fields). The generic functions here write every other field
from the declarations and read its answers; the way back (a body into the native one, our states
into its answers) is the emulator's (``emulator/gateways/unwire.py``), read from these declarations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from storyboard.dialects import wording
from storyboard.language.request import LabelStyle, MediaItem, MediaRef, ShotRequest, spelled
from storyboard.targets import Limits, TaskProtocol, TaskState, TaskStatus
from storyboard.targets.video.models import model_of
from storyboard.targets.wire.gateways import Target

UrlFor = Callable[[MediaRef], str]
MediaFn = Callable[[list["Ref"]], dict[str, Any]]
ArrangeFn = Callable[[ShotRequest], ShotRequest]
ShapeFn = Callable[[ShotRequest, dict[str, Any]], dict[str, Any]]

# The neutral parameters a flat body carries, in body order.
PARAMS = ("model", "prompt", "negative_prompt", "resolution", "ratio", "duration",
          "prompt_extend", "watermark", "seed", "audio")
FLAT = {name: name for name in PARAMS}  # a flat body that keeps the neutral names
UNDOCUMENTED = 0  # ``Dialect.envelope_error`` of a code no declaration knows: not a refusal


@dataclass(frozen=True)
class Ref:
    """One media entry with its URLs decided: what ``media`` functions shape."""

    role: str  # reference_image | reference_video | first_frame
    url: str
    voice: str | None = None


@dataclass(frozen=True)
class Answers:
    """Where a dialect's answers keep things: dotted paths (``data.generated.0``)."""

    task_id: str
    status: str
    video_url: str
    message: str = "error.message"
    code: str = "error.code"
    submitted_id: str = ""  # the submit answer's task id, when not at ``task_id``
    items: str = "data"  # the list of a list answer
    item_prompt: str = "prompt"  # an item's prompt (for reconciling a lost submit)
    # A list that shows no prompt (Ark): each neutral parameter the items show, by its path in an
    # item, as the body sends it (``resolution`` lower case); a lost submit matches by these.
    item_fields: Mapping[str, str] = field(default_factory=dict)
    total: str = ""  # a list answer's count of every matching task, across its pages
    tokens: str = ""  # where a finished task's billed tokens are (a wire that bills tokens)
    code_pattern: str = ""  # the code is this regex's first group in the text at ``code``


@dataclass(frozen=True)
class Refusal:
    """A content refusal a wire names by code: what was refused, and whether it is paid."""

    what: str  # "the prompt", "the finished video"
    billed: bool
    face: bool = False  # a picture taken for a real person's face (said with its character)

    def note(self, code: str) -> str:
        paid = "billed" if self.billed else "not billed"
        why = ", taken for a real person's face" if self.face else ""
        return f"content refusal ({code}): {self.what} was refused by moderation{why}; {paid}"


@dataclass(frozen=True)
class Dialect:
    """A wire target's body and answers: it holds its ``Target`` (name, limits, protocol, status
    words, models) and adds only what is the wire's own."""

    target: Target
    fields: Mapping[str, str]  # neutral parameter -> dotted body path; absent: not sent
    answers: Answers
    media: MediaFn
    key_env: str
    base_url: str
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"  # "" sends the bare key
    # A key pair: the variable of the secret that signs a short-lived token naming the key
    # (``targets.signatures.tokens``); the bearer is that token, never the key itself. "" sends the key.
    secret_env: str = ""
    content_path: str | None = None  # the video comes from here (with the key), not video_url
    webhook_field: str | None = None  # the body field a status callback URL goes in
    formats: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)  # value rewrites
    settings: Mapping[str, Any] = field(default_factory=dict)  # body fields always sent
    arrange: ArrangeFn | None = None  # reorders the media (and relabels the prompt) first
    labels: LabelStyle | None = None  # how it writes labels, when not as its Target does
    shape: ShapeFn | None = None  # the body rewritten for its model's own wire names, last
    # Content refusals by code prefix: what each means, and whether the refused task is billed.
    refusals: Mapping[str, Refusal] = field(default_factory=dict)
    # A wire whose every answer is an envelope with a code that is 0 when all is well (Kling;
    # MiniMax v1's ``base_resp.status_code``, in HTTP 200 answers): that code's path, and the
    # HTTP status each documented code means (a request error, said in an answer of any status;
    # a code not listed, or not a number, is an answer not understood: never a refusal, so a
    # submit's is a lost answer, ``errors.UnreadAnswer``). Where the envelope's code is also a
    # task's failure code (``Answers.code``, MiniMax v1), an answer with a status word is a task's state.
    envelope: str = ""
    envelope_statuses: Mapping[str, int] = field(default_factory=dict)
    # A list asked by filter and page (Ark): each query parameter with the neutral parameter it
    # filters by, and the page number's and size's names ("" : one answer lists every task).
    list_filters: Mapping[str, str] = field(default_factory=dict)
    list_pages: tuple[str, str] = ("", "")

    def label_for(self, model: str) -> LabelStyle:
        """How this dialect writes a mention for a shot on ``model``: the model's own spelling
        on this target where it declares one ("[Image 1]"), else the dialect's."""
        found = model_of(model)
        spelling = found.label_format(self.name) if found is not None else None
        return self.label if spelling is None else spelled(spelling)

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def title(self) -> str:
        return self.target.title  # for tables: "Freepik-style tasks"

    @property
    def limits(self) -> Limits:
        return self.target.limits

    @property
    def protocol(self) -> TaskProtocol:
        return self.target.protocol

    @property
    def words(self) -> Mapping[str, TaskStatus]:
        return self.target.words  # status words, as it spells them

    @property
    def models(self) -> tuple[str, ...]:
        return self.target.models  # the models it sells

    @property
    def label(self) -> LabelStyle:
        return self.labels or self.target.label

    def names_identity(self, url: str) -> bool:
        """Whether ``url`` names a portrait registered with the vendor (``asset://ID``)."""
        return self.target.names_identity(url)

    def arranged(self, request: ShotRequest) -> ShotRequest:
        """The request as this dialect sends it: its media in the order its labels need."""
        return self.arrange(request) if self.arrange is not None else request

    def body(self, request: ShotRequest, url_for: UrlFor, *,
             first_frame_url: str | None = None) -> dict[str, Any]:
        """The neutral request as this dialect's submit body."""
        request = self.arranged(request)
        values = neutral_values(request, self.label_for(request.model))
        out: dict[str, Any] = {}
        for name in PARAMS:
            path = self.fields.get(name)
            if path is not None and values.get(name) not in (None, ""):
                convert = self.formats.get(name)
                put(out, path, convert(values[name]) if convert else values[name])
        media = self.media(refs(request, url_for, first_frame_url))
        for path, value in [*media.items(), *self.settings.items()]:
            put(out, path, value)
        return self.shape(request, out) if self.shape is not None else out

    def task_state(self, answer: Mapping[str, Any], task_id: str = "") -> TaskState:
        """A query answer (or a webhook payload) into our words; unknown words become UNKNOWN."""
        spec = self.answers
        status, note = self.protocol.status(get(answer, spec.status))
        message = str(get(answer, spec.message) or "")
        url = get(answer, spec.video_url)
        code = self.code_of(answer)
        refused = self.refusal_note(code) if status is TaskStatus.FAILED else ""
        return TaskState(task_id=str(get(answer, spec.task_id) or task_id), status=status,
                         video_url=str(url) if url else None, code=code,
                         message="; ".join(m for m in (note, refused, message) if m),
                         raw=dict(answer))

    def code_of(self, answer: Mapping[str, Any]) -> str:
        """An answer's failure code ("" for none, and for an envelope's "0")."""
        spec = self.answers
        code = str(get(answer, spec.code) or "")
        if spec.code_pattern:
            found = re.search(spec.code_pattern, code)
            code = found.group(1) if found else ""
        return "" if self.envelope == spec.code and code == "0" else code

    def refusal_note(self, code: str) -> str:
        """What a content refusal's code means and whether it is paid ("" for other codes)."""
        found = self.refusal_of(code)
        return found.note(code) if found is not None else ""

    def refusal_of(self, code: str) -> Refusal | None:
        """The content refusal ``code`` names (its longest declared prefix), or None."""
        found = [prefix for prefix in self.refusals if code.startswith(prefix)]
        return self.refusals[max(found, key=len)] if found else None

    def listed_like(self, request: ShotRequest, item: Mapping[str, Any]) -> bool:
        """Whether a listed task (of a list without prompts) shows every setting ``request``
        sends as this dialect sends it; a ratio left to the service (``adaptive``) and a
        setting not sent (no seed) match any."""
        values = self.sent_values(request)
        return all(str(get(item, path)) == str(values[name])
                   for name, path in self.answers.item_fields.items()
                   if values.get(name) not in (None, "adaptive"))

    def sent_values(self, request: ShotRequest) -> dict[str, Any]:
        """The neutral parameters as this dialect writes them in a body (its ``formats``)."""
        values = neutral_values(request, self.label_for(request.model))
        return {name: self.formats[name](value) if name in self.formats and value is not None
                else value for name, value in values.items()}

    def envelope_error(self, answer: Mapping[str, Any]) -> int | None:
        """The HTTP status an enveloped answer's code means when it is not 0 (None: all well,
        or a wire without an envelope); ``UNDOCUMENTED`` for a code the wire does not declare
        or one of an odd shape (a string, a list, a float): never read as a refusal."""
        code = self.envelope_code(answer)
        if code in (0, "0", None) or (self.envelope == self.answers.code
                                      and get(answer, self.answers.status) is not None):
            return None
        if isinstance(code, bool) or not isinstance(code, int):
            return UNDOCUMENTED
        return self.envelope_statuses.get(str(code), UNDOCUMENTED)

    def envelope_code(self, answer: Mapping[str, Any]) -> Any:
        """The envelope's code as the answer has it (0 on a wire without an envelope)."""
        return get(answer, self.envelope) if self.envelope else 0

    def submitted(self, answer: Mapping[str, Any]) -> str:
        """The task id of a submit answer, or "" when it has none."""
        found = get(answer, self.answers.submitted_id or self.answers.task_id)
        return str(found) if found else ""




def neutral_values(request: ShotRequest, label: LabelStyle) -> dict[str, Any]:
    """The request's parameters by neutral name; None for what its model does not take (the
    ratio of a model that follows its first frame, a seed where it has none), so it is not
    sent."""
    model = model_of(request.model)
    prompt = wording.for_model(request.prompt_in(label), request.scenes, request.model)
    return {"model": request.model, "prompt": prompt,
            "negative_prompt": request.negative_prompt, "resolution": request.resolution,
            "ratio": request.ratio if model is None or model.ratio else None,
            "duration": request.duration, "prompt_extend": request.prompt_extend,
            "watermark": request.watermark,
            "seed": request.seed if model is None or model.seed else None, "audio": request.audio}


def refs(request: ShotRequest, url_for: UrlFor, first_frame_url: str | None) -> list[Ref]:
    return [Ref(m.role, _url(m, url_for, first_frame_url),
                url_for(m.voice) if m.voice is not None else None) for m in request.media]


def _url(item: MediaItem, url_for: UrlFor, first_frame_url: str | None) -> str:
    if item.ref is not None and item.ref.id is not None:
        return item.ref.id  # an id made on the vendor (a Kling element, a voice): no file
    if item.ref is not None:
        return url_for(item.ref)
    return first_frame_url or f"{{from: {item.from_shot}}}"


def entry(ref: Ref, url_key: str = "url", **extra: str) -> dict[str, str]:
    """``{url, reference_voice?}`` and any extra keys: the item most gateways share."""
    item = {url_key: ref.url, **extra}
    if ref.voice:
        item["reference_voice"] = ref.voice
    return item


def get(data: Any, path: str) -> Any:
    """The value at a dotted path (``data.generated.0``), or None."""
    for part in path.split(".") if path else ():
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, making the mappings (and a one-item list for ``.0``) on the way."""
    parts = path.split(".")
    *parents, last = parts
    node: Any = data
    for index, part in enumerate(parents):
        default: Any = [] if parts[index + 1].isdigit() else {}
        node = _child(node, part, default)
    if isinstance(node, list):
        node.append(value)
    else:
        node[last] = value


def _child(node: Any, part: str, default: Any) -> Any:
    if isinstance(node, list):
        node.append(default)
        return default
    return node.setdefault(part, default)
