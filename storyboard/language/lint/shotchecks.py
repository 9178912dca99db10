"""Requests and the files a series names into problems: lengths, seconds, a gateway's limits, media.

The compiler's checks, apart from how it builds requests: each shot's compiled prompt against its
model's lengths, its reference videos and voices against the model's seconds, its request against
the gateway it is compiled for, and every local file against what its role (or its model's rule)
accepts; plus the provider settings a series names (``--provider``, ``provider.name``,
``media_base_url``, a ComfyUI series' workflow files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, MediaError
from storyboard.language.lint import limits as dialect_check
from storyboard.language.lint import retired, wordingcheck
from storyboard.language.lint.limits import Target
from storyboard.language.read.series import Source
from storyboard.language.request import (
    MediaRef,
    ShotRequest,
    provider_settings,
    settings_of,
    spelled,
)
from storyboard.language.resolving import modelcheck
from storyboard.language.resolving.resolve import ResolvedShot
from storyboard.language.resolving.resolvemedia import MediaUse
from storyboard.media.probes import probe as media
from storyboard.targets.capabilities import FileRule
from storyboard.targets.kinds import DEFAULT, KINDS, has, is_paid, named
from storyboard.targets.video.models import Model, family
from storyboard.targets.wire.gateways import TARGETS
from storyboard.targets.wire.gateways import Target as GatewayTarget

STITCH_ROLES = ("card", "audio")  # files only the stitcher reads: never sent to a provider
SECONDS_ROLES = ("reference_video", "reference_audio", "source_video")  # timed by their files
IMAGE_ROLES = ("reference_image", "first_frame", "middle_frame", "last_frame")  # held to a model's image_rule


class CompileChecks:
    """A compiler's problems, and the checks that add to them (its base class)."""

    def __init__(self, source: Source, check_media: bool = True, provider: str | None = None,
                 media_cache: media.MediaCache | None = None) -> None:
        self.source = source
        self.check_media = check_media
        self.problems: list[Diagnostic] = list(source.problems)
        self.cache = media_cache or media.MediaCache(source.root / ".storyboard" / "media.json")
        self.gateway = gateway_of(source, provider, self.problems)
        self.problems += workflow_problems(source, provider)
        self.problems += unused_settings(source, provider)
        self.problems += misnamed_blocks(source)
        self.provider = provider_name(source, provider)
        self.problems += retired.series_refusals(source.series, self.provider)
        self.said: set[str] = set()  # gateway problems about a file, said once
        self.seconds: dict[Path, float] = {}  # each local file's length, looked up once

    @property
    def target(self) -> GatewayTarget | None:
        """The gateway target the series is compiled for (None: native or local)."""
        return TARGETS.get(self.gateway[0].name) if self.gateway is not None else None

    # --- the files --------------------------------------------------------------------------------

    def media_digests(self, uses: Mapping[tuple[Path, str], MediaUse]) -> dict[Path, str]:
        """Each local file's content digest, each checked once for each role it is used as."""
        digests: dict[Path, str] = {}
        for (path, role), use in uses.items():
            try:
                facts = self.cache.facts(path)
            except MediaError as exc:
                why = "not a regular file" if "not a regular file" in str(exc) else ""
                self.problems.append(use.doc.diagnostic(use.where, (
                    f"{_rel(path, self.source.root)!r} is not a regular file; expected a media "
                    "file" if why else
                    f"missing or unreadable file {_rel(path, self.source.root)!r}")))
                continue
            digests[path] = facts.sha256
            if facts.init_card and use.role not in STITCH_ROLES:
                self.problems.append(self._init_card(use))
            if self.check_media:
                for message in _verdict(facts, role, use.rule):
                    self.problems.append(use.doc.diagnostic(
                        use.where, f"{_rel(path, self.source.root)}: {message}", code="media-file"))
        return digests

    def _init_card(self, use: MediaUse) -> Diagnostic:
        """A placeholder card an older ``init`` drew: an error for a paid provider (it would pay
        for shots with nothing to go on), a warning for a free one."""
        paid = is_paid(self.provider)
        name = _rel(use.path, self.source.root)
        return use.doc.diagnostic(use.where, (
            f"{name} is a grey placeholder card drawn by an older `storyboard init`, not a "
            f"picture; " + (f"{self.provider} would be paid for shots with nothing to go on" if paid
                            else "fine for a local draft, refused by a paid provider")
            + ": replace the file with a real picture (same path), or describe it instead: "
            "image: {generate: \"...\"}"), severity="error" if paid else "warning",
            code="placeholder-image")

    # --- each shot's request (the compiler calls each in turn) ------------------------------------

    def check_lengths(self, shot: ResolvedShot, request: ShotRequest) -> None:
        """The compiled prompt and the negative prompt against the model's lengths."""
        caps = shot.model.caps
        where = (*shot.path, "prompt" if shot.prompt is not None else "scenes")
        # As long as it is sent: a model with labels of its own ("[Image 1]") writes it longer.
        length = max([len(request.prompt), *(len(request.prompt_in(spelled(spelling)))
                                            for spelling in shot.model.labels.values())])
        if length > caps.prompt_limit:
            self.problems.append(shot.doc.diagnostic(where, (
                f"the compiled prompt has {length} characters; expected at most "
                f"{caps.prompt_limit}")))
        negative = request.negative_prompt or ""
        if len(negative) > caps.negative_prompt_limit:
            self.problems.append(shot.doc.diagnostic(shot.path, (
                f"the negative prompt has {len(negative)} characters; expected at most "
                f"{caps.negative_prompt_limit}")))

    def check_seconds(self, shot: ResolvedShot, request: ShotRequest) -> None:
        """Reference videos and voices too long for the model together, a shot longer than the
        video it edits (local files only)."""
        seconds: dict[str, list[float]] = {role: [] for role in SECONDS_ROLES}
        for item in request.media:
            if item.role in seconds:
                seconds[item.role].append(self._seconds(item.ref))
        for message in modelcheck.seconds_problems(shot.model, request.duration,
                                                   seconds["reference_video"],
                                                   seconds["reference_audio"],
                                                   seconds["source_video"]):
            self.problems.append(shot.doc.diagnostic(shot.path, message, code="model-seconds"))

    def check_files(self, shot: ResolvedShot, request: ShotRequest) -> None:
        """Each local picture against its model's ``image_rule`` and each reference video
        against its model's rule for reference videos (Kling's 3..10 s), at the shot's line (a
        frame at its own key): the same file may suit one model and not another."""
        model = shot.model
        for item in request.media:
            path = item.ref.path if item.ref is not None else None
            if path is None:
                continue
            problem = self._file_problem(model, item.role, path)
            if problem is None:
                continue
            who = f" (@{item.character})" if item.character else ""
            where = shot.path if item.role.startswith("reference_") else (*shot.path, item.role)
            self.problems.append(shot.doc.diagnostic(where, (
                f"{model.id} cannot take {_rel(path, self.source.root)}{who}: {problem} (its "
                f"{model.source('limits')} limit)"), code="model-file"))

    def _file_problem(self, model: Model, role: str, path: Path) -> str | None:
        video = model.file_rules.get(role) if role == "reference_video" else None
        image = model.image_rule if role in IMAGE_ROLES else None
        if video is None and image is None:
            return None  # most models: the file check's general limits alone
        try:
            facts = self.cache.facts(path)
        except MediaError:
            return None  # said already, as a missing or unreadable file
        if video is not None:
            return video.problem(facts.seconds, facts.size)
        assert image is not None
        if self.gateway is not None and 0 < self.gateway[0].limits.image_max_mb <= image.max_mb:
            image = replace(image, max_mb=0)  # the gateway's own size check says it
        return image.problem(facts.width, facts.height, facts.size)

    def _seconds(self, ref: MediaRef | None) -> float:
        if ref is None or ref.path is None:
            return 0.0
        seconds = self.seconds.get(ref.path)
        if seconds is None:
            try:
                seconds = self.cache.facts(ref.path).seconds
            except MediaError:
                seconds = 0.0  # said already, as a missing or unreadable file
            self.seconds[ref.path] = seconds
        return seconds

    def check_region(self, shot: ResolvedShot) -> None:
        """A model DashScope serves in some regions only, on a series rendering in another: said
        once, at the model's key (a ``base_url`` of your own is any host: not checked)."""
        regions, data = shot.model.regions, self.source.series.data
        if not regions:
            return  # most models: served in every region (nothing to look up a shot)
        # DashScope's own settings only: a gateway's block's base_url or region are not its
        block = settings_of(data.get("provider"), data.get("providers"), self.provider) \
            if isinstance(data, dict) else {}
        region = str(block.get("region") or "intl")
        if not regions or not has(self.provider, "regions") or block.get("base_url") or \
                region in regions or shot.model.id in self.said:
            return
        self.said.add(shot.model.id)
        origin = shot.origins.get("model")
        doc, where = (origin.doc, origin.path) if origin else (shot.doc, shot.path)
        self.problems.append(doc.diagnostic(where, (
            f"{shot.model.id} is served in DashScope's {', '.join(regions)} region only, and "
            f"this series renders in {region}: set provider.region: {regions[0]} (the service "
            "would refuse its shots, unpaid)"), severity="warning", code="model-region"))

    def check_retired(self, shot: ResolvedShot) -> None:
        """A model its vendor has withdrawn: refused where it was chosen, with its successor;
        timed scenes its model cannot follow as worded, at their line."""
        if (found := retired.shot_refusal(shot, self.provider, self.said)) is not None:
            self.problems.append(found)
        self.problems += wordingcheck.wording_problems(shot)

    def check_native(self, shot: ResolvedShot) -> None:
        """A model DashScope does not sell (Seedance), on a series rendering on DashScope: an
        error at the model's key naming the provider that sells it (said once a model)."""
        if not has(self.provider, "regions") or shot.model.id in TARGETS[self.provider].models \
                or f"native:{shot.model.id}" in self.said:
            return
        self.said.add(f"native:{shot.model.id}")
        sellers = [name for name, target in TARGETS.items() if shot.model.id in target.models]
        sellers = sellers or [DEFAULT]
        origin = shot.origins.get("model")
        doc, where = (origin.doc, origin.path) if origin else (shot.doc, shot.path)
        self.problems.append(doc.diagnostic(where, (
            f"{self.provider} does not sell {shot.model.id}: render it with provider "
            f"{' or '.join(sellers)} (provider: {{name: {sellers[0]}}})"), code="model-provider"))

    def check_gateway(self, shot: ResolvedShot, request: ShotRequest) -> None:
        """The request against the gateway's limits (a problem about a file said once)."""
        self.check_native(shot)
        if self.gateway is None:
            return
        dialect, base_url = self.gateway
        if family(request.model) not in dialect.models:
            self._unsold(shot, dialect)
            return
        names = {ref: _rel(ref.path, self.source.root) for ref in _local_refs(request)
                 if ref.path is not None}
        for problem in dialect_check.problems(request, dialect, base_url, names):
            if (problem.once and problem.said_as in self.said) or \
                    self._model_said(shot, problem.field):
                continue
            self.said.add(problem.said_as)
            self.problems.append(shot.doc.diagnostic(
                (*shot.path, problem.field), _about_board(shot, problem, dialect),
                severity=problem.severity, code=f"gateway-{problem.field}"))

    def _unsold(self, shot: ResolvedShot, dialect: Target) -> None:
        """A model the gateway does not sell: one error where the model was chosen (the series'
        ``defaults`` when nothing chose it), with the change, said once for every shot it
        chose the model of."""
        origin = shot.origins.get("model")
        doc, where = (origin.doc, origin.path) if origin else (self.source.series, ("defaults",))
        if not origin and not isinstance(doc.get(where), dict):
            where = ("storyboard",)  # no defaults: at the series' first key
        said = f"unsold:{shot.model.id}:{doc.file}:{where}"
        if said in self.said:
            return
        self.said.add(said)
        place = "this shot's `model:`" if origin and origin.level == 2 else \
            "`model:` in `defaults`"
        chosen = "" if origin else f" (no `model:` chooses another, so {shot.model.id})"
        self.problems.append(doc.diagnostic(where, (
            f"{dialect.name} sells {', '.join(dialect.models)}, not {shot.model.id}{chosen}: "
            f"set {place} to one of them, or render with provider dashscope (the native API "
            "serves every model)"), key=origin is None, code="gateway-model"))

    def _model_said(self, shot: ResolvedShot, field: str) -> bool:
        """Whether the model's own check already refused ``field`` (a 2 s shot under a 4 s
        minimum) where it was set: the gateway's limit is the same cause, said once."""
        if field not in ("duration", "resolution", "ratio"):
            return False  # the model checks these too; the rest are the gateway's own
        origin = shot.origins.get(field)
        doc, path = (origin.doc, origin.path) if origin else (shot.doc, shot.path)
        span = doc.span(path)
        return any(d.severity == "error" and d.code.startswith("model-") and d.span == span
                   for d in self.problems)


# --- the provider a series names ------------------------------------------------------------------


def provider_name(source: Source, provider: str | None) -> str:
    """Who the series is compiled for: ``--provider``, else the series' ``provider.name``, else
    ``local`` (as ``run/config.provider_name`` chooses)."""
    block = source.series.data.get("provider") if isinstance(source.series.data, dict) else None
    return named(block, provider)


def gateway_of(source: Source, provider: str | None, problems: list[Diagnostic]
               ) -> tuple[Target, str | None] | None:
    """The gateway dialect the series is checked for (``--provider`` first, then the series'
    ``provider.name``) and its ``media_base_url``; None for native and local renders."""
    series = source.series
    data = series.data if isinstance(series.data, dict) else {}  # broken YAML: its own error
    block = data.get("provider")
    block = block if isinstance(block, dict) else {}
    name = provider or block.get("name")
    if provider is not None and provider not in KINDS:
        problems.append(Diagnostic(None, f"unknown provider {provider!r}; expected one of: "
                                         f"{', '.join(KINDS)}"))
    if not has(name, "gateway"):
        return None
    found = provider_settings(block, data.get("providers"), str(name))
    base_url, where = found.get("media_base_url", (None, "provider.media_base_url"))
    if base_url is not None and not (isinstance(base_url, str) and
                                     dialect_check.is_public(base_url)):
        problems.append(series.diagnostic(tuple(where.split(".")), (
            f"media_base_url {base_url!r}; expected the http(s) URL where the series folder is "
            "hosted")))
        base_url = None
    return TARGETS[str(name)], base_url


def unused_settings(source: Source, provider: str | None) -> list[Diagnostic]:
    """A warning when ``--provider`` names another provider than the series' ``provider:``
    block does (no name: ``local``) and the block has settings: none of them is used, as they
    belong to the provider the block names (its host never receives another provider's key)."""
    series = source.series
    block = series.data.get("provider") if isinstance(series.data, dict) else None
    kind = KINDS.get(provider) if provider is not None else None
    if provider is None or (kind is not None and not kind.settings) or not isinstance(block, dict):
        return []  # local drafts: nothing of a block matters to them (no host, no key)
    owner = named(block)
    settings = sorted(str(k) for k in block if k != "name")
    if owner == provider or not settings:
        return []
    return [series.diagnostic(("provider",), (
        f"this block is {owner}'s{'' if 'name' in block else ' (it names no provider)'}: "
        f"--provider {provider} uses none of its settings ({', '.join(settings)}); expected "
        f"name: {provider} in it to render with them"), key=True, severity="warning",
        code="provider-settings-unused")]


def misnamed_blocks(source: Source) -> list[Diagnostic]:
    """An error for a ``providers:`` block whose ``name`` is another provider's: a block is
    the provider's it is filed under (its keys never lead another's)."""
    series = source.series
    table = series.data.get("providers") if isinstance(series.data, dict) else None
    return [series.diagnostic(("providers", key, "name"), (
        f"this block is {key}'s (it is filed under {key}), not {block['name']}'s; expected no "
        f"name, or name: {key}"), code="provider-misnamed")
        for key, block in (table.items() if isinstance(table, dict) else ())
        if isinstance(block, dict) and block.get("name") not in (None, key)]


def workflow_problems(source: Source, provider: str | None) -> list[Diagnostic]:
    """A ComfyUI series' workflow files that are not there, each located at its ``workflow:``
    or ``workflows:`` entry (the provider reads the files; here they are only found)."""
    series = source.series
    data = series.data if isinstance(series.data, dict) else {}
    kind = next((k.name for k in KINDS.values() if k.workflows and provider in (None, k.name)),
                None)  # without --provider, the workflows a series names are checked
    found = provider_settings(data.get("provider"), data.get("providers"), kind) if kind else {}
    if not found:
        return []
    workflow, where = found.get("workflow", (None, "provider.workflow"))
    entries: list[tuple[tuple[str, ...], Any]] = [(tuple(where.split(".")), workflow)]
    chosen, where = found.get("workflows", (None, "provider.workflows"))
    if isinstance(chosen, dict):
        entries += [((*where.split("."), str(key)), name) for key, name in chosen.items()]
    return [series.diagnostic(where, (
        f"workflow {name!r} is not a file in the series folder; expected a ComfyUI workflow "
        "exported with \"Save (API)\" (a path relative to the series folder)"),
        code="provider-workflow")
        for where, name in entries if isinstance(name, str) and not (source.root / name).is_file()]


def _verdict(facts: media.Facts, role: str, rule: FileRule | None = None) -> list[str]:
    if rule is not None:  # a model's own rule for this role: its kind of file, length and size
        limits = replace(media.LIMITS[rule.kind], min_seconds=rule.min_seconds,
                         max_seconds=rule.max_seconds, max_bytes=int(rule.max_mb * media.MB))
        return media.verdict(facts, rule.kind, limits)
    if role in ("image", "video", "voice"):
        return media.verdict(facts, role)  # type: ignore[arg-type]
    if role == "card" and facts.kind not in media.ACCEPTED["image"]:
        return [f"expected {media.ROLE_WORDS['image']} for a card"]
    if role == "audio" and facts.kind not in ("wav", "mp3", "mp4", "mov"):
        return ["expected an audio file (WAV, MP3, M4A) for the music bed"]
    return []


def _local_refs(request: ShotRequest) -> list[MediaRef]:
    return [ref for item in request.media for ref in (item.ref, item.voice)
            if ref is not None and ref.path is not None]


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _about_board(shot: ResolvedShot, problem: dialect_check.Problem, dialect: Target) -> str:
    """A gateway's problem, said of the shot's board where its first frame is the board."""
    board = shot.board
    if problem.field != "first_frame" or board is None or board.role != "first_frame" or \
            dialect.limits.first_frame:
        return problem.message
    return (f"{dialect.name} takes no first frame: this shot's board is not sent, and its video "
            "would wait for a board it never uses; expected boards: {as: none} for this "
            "provider, or a provider that takes a first frame")
