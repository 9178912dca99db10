"""Resolved shots into what their model refuses: media kinds and counts, frames, durations, switches.

Every shot names a model (``model:`` in ``defaults``, an episode's ``defaults`` or the shot; the
default is ``wan2.7-r2v``), declared in ``storyboard.targets.video.models``. Nothing a model cannot carry is
dropped in silence: a value set for that model (on the shot, or at the level where the model is
chosen, or below it; for the default model, on the shot) is a located error; a value inherited
from a wider ``defaults`` meant for other models is not sent, and a warning at that default says
so once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import PathKey
from storyboard.language.read.schemacheck import did_you_mean, did_you_mean_name, legal_names
from storyboard.language.request import MediaRef, by_id
from storyboard.language.resolving import cast, liproutes
from storyboard.language.resolving.resolved import Given, Origin, ResolvedShot, Resolving, model_for
from storyboard.targets.cast.assets import QWEN3_TTS_VD, speech_characters, spoken_seconds
from storyboard.targets.video.models import DEFAULT_MODEL, MODELS, Model, model_of, with_limits
from storyboard.targets.video.retired import retirement

# A shot's ``Origin`` and ``model_for`` live with the resolved shot; importers keep this path.
__all__ = ["FRAME_KINDS", "Origin", "check", "check_pass", "frames_pass", "model_for",
           "model_table", "resolve_frames", "seconds_problems"]




def model_table(series: Mapping[str, Any]) -> dict[str, Model]:
    """The declarations with the limits a series overrides (``models: {ID: {max_duration: 25}}``;
    a snapshot id overrides its model's)."""
    table = dict(MODELS)
    overrides = series.get("models")
    for name, limits in overrides.items() if isinstance(overrides, Mapping) else ():
        known = model_of(str(name))
        if known is not None and isinstance(limits, Mapping):
            table[known.id] = with_limits(table[known.id], limits)
    return table


def _spoken_line(resolver: Resolving, shot: ResolvedShot, value: dict[str, Any], where: PathKey) -> None:
    """``driving_audio: {say: ..., voice: ...}``: a line spoken in a designed voice."""
    voice = str(value.get("voice"))
    if voice not in resolver.designed:
        resolver.problems.append(shot.doc.diagnostic((*where, "voice"), (
            f"{voice!r} is not a designed voice{did_you_mean(voice, resolver.designed)}; "
            "expected one of the series' voices with design: "
            f"{', '.join(sorted(resolver.designed)) or '(none declared)'}")))
        return
    text = str(value["say"])
    if speech_characters(text) > QWEN3_TTS_VD.text_limit:
        resolver.problems.append(shot.doc.diagnostic((*where, "say"), (
            f"the line is {speech_characters(text)} characters long (a Chinese one counting two);"
            f" expected at most {QWEN3_TTS_VD.text_limit}")))
        return
    line = cast.SpokenLine(f"{shot.episode}/{shot.id}", text, voice, shot.doc.span(where))
    resolver.lines[line.id] = line
    shot.frames["driving_audio"] = MediaRef(asset=cast.asset_id("lines", line.id))
    shot.pad = (liproutes.choice(shot.params).pad, 0.0)
    _line_length(resolver, shot, text, where)


def _line_length(resolver: Resolving, shot: ResolvedShot, text: str, where: PathKey) -> None:
    """A warning when the line will likely last longer than the model takes as driving audio
    (``spoken_seconds``: an estimate; the made line is measured before the shot is sent). A
    shorter one is padded to the model's shortest when it is handed over (its words kept)."""
    rule = shot.model.file_rules.get("driving_audio")
    seconds = spoken_seconds(text)
    if rule is None or seconds <= rule.max_seconds:
        return
    resolver.problems.append(shot.doc.diagnostic((*where, "say"), (
        f"spoken, this line will likely last about {seconds:.1f} s (about 20 characters a "
        f"second); {shot.model.id} takes {rule.min_seconds:g} to {rule.max_seconds:g} s of "
        "driving audio: shorten the line or split it between shots (the made line is "
        "measured, and the shot is not sent when it is too long)"), severity="warning",
        code="line-length"))


# The frames a shot may name besides its first frame, each with the kind of file it is.
FRAME_KINDS = {"middle_frame": "image", "last_frame": "image", "first_clip": "video",
               "driving_audio": "audio", "source_video": "video"}


STILLS = ("first_frame", "middle_frame", "last_frame")  # the frames that are pictures


def frames_pass(resolver: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass: the shot's frames and clips (``resolve_frames``)."""
    resolve_frames(resolver, shot, given.raw)


def resolve_frames(resolver: Resolving, shot: ResolvedShot, raw: dict[str, Any]) -> None:
    """``last_frame``, ``first_clip``, ``driving_audio`` and ``source_video`` into files
    (``{voice: NAME}`` takes that voice's clip)."""
    if not FRAME_KINDS.keys() & raw.keys():
        return  # most shots: nothing to resolve
    rules = shot.model.file_rules
    for role, kind in FRAME_KINDS.items():
        value = raw.get(role)
        where = (*shot.path, role)
        # A file the model holds to rules of its own (a clip's or a driving audio's length) is
        # checked as that role; the media check reads the rule from the model's declaration.
        use = role if role in rules else kind
        if isinstance(value, dict) and isinstance(value.get("say"), str):
            _spoken_line(resolver, shot, value, where)
        elif isinstance(value, dict) and isinstance(value.get("voice"), str):
            ref = resolver.voices.get(value["voice"])
            if ref is None:
                resolver.problems.append(shot.doc.diagnostic((*where, "voice"), (
                    f"unknown voice {value['voice']!r}"
                    f"{did_you_mean_name(value['voice'], resolver.voices, 'voices')}; expected one "
                    f"of: {', '.join(sorted(legal_names(resolver.voices, 'voices'))) or '(none declared)'}")))
                continue
            shot.frames[role] = ref
            if ref.path is not None and role in rules:
                resolver.media_ref(shot.doc, where, str(ref.path), use, rules[role])
        elif isinstance(value, str):
            found = resolver.media_ref(shot.doc, where, value, use, rules.get(role))
            if found is not None:
                shot.frames[role] = found


def check_pass(resolver: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass (the last: with every reference known): the shot held to its model."""
    roles = {r.name: r.role for r in shot.references}  # a character's identity: an element
    videos = sum(1 for n in given.names
                 if roles.get(n, resolver.characters[n].role) == "reference_video")
    check(resolver, shot, given.names, videos)


def check(resolver: Resolving, shot: ResolvedShot, names: list[str], videos: int) -> None:
    """Every way ``shot`` (with references ``names``, ``videos`` of them videos) breaks its model."""
    model = shot.model
    kinds = {"model-switch": _switches(shot, model),
             "model-references": _references(shot, model, names, videos),
             "model-frames": _frames(shot, model, names),
             "model-duration": _duration(shot, model, videos),
             "model-voices": _voices(shot, model),
             "model-materials": _materials(shot, model, names)}
    for code, problems in kinds.items():
        for found in problems:  # most shots: none
            problem = replace(found, code=code)
            if problem not in resolver.problems:
                resolver.problems.append(problem)
            else:
                resolver.repeats += 1


# --- switches the model does not take -------------------------------------------------------


def _refused(model: Model) -> tuple[str, ...]:
    """The switches ``model`` takes not, worked out once a model (declarations are frozen)."""
    found = _REFUSED.get(id(model))
    if found is None or found[0] is not model:
        unsupported = {"negative_prompt": not model.negative_prompt,
                       "prompt_extend": not model.prompt_extend,
                       "audio": not model.audio_switch, "ratio": not model.ratio,
                       "seed": not model.seed}
        if len(_REFUSED) >= 1000:  # a series' own limits make models of their own
            _REFUSED.clear()
        found = _REFUSED[id(model)] = (model, tuple(n for n, no in unsupported.items() if no))
    return found[1]


_REFUSED: dict[int, tuple[Model, tuple[str, ...]]] = {}  # by id(): the model kept with it


def _switches(shot: ResolvedShot, model: Model) -> Iterator[Diagnostic]:
    for name in _refused(model):
        origin = shot.origins.get(name)
        value = shot.params.get(name)
        if value is None or origin is None or (name == "audio" and value is True):
            continue  # ``audio: true`` asks a model without the switch for what it does anyway
        if name != "ratio" or origin.level == 2:  # an inherited ratio: the frame decides anyway
            yield _unsupported(shot, model, name)
    resolution = shot.params.get("resolution")
    if resolution not in model.caps.resolutions:
        yield _at(shot, "resolution", f"resolution {resolution}; {model.id} renders "
                                      f"{', '.join(model.caps.resolutions)}")
    ratio = shot.params.get("ratio")
    if model.ratio and ratio is not None and ratio not in model.caps.ratios:
        yield _at(shot, "ratio", f"ratio {ratio}; {model.id} takes "
                                 f"{', '.join(model.caps.ratios)}")


def _unsupported(shot: ResolvedShot, model: Model, name: str) -> Diagnostic:
    origin = shot.origins[name]
    why = {"negative_prompt": "takes no negative prompt",
           "prompt_extend": "has no prompt_extend switch",
           "audio": "has no audio switch (it always makes sound)",
           "ratio": "takes no ratio: the video follows its first frame's shape",
           "seed": "takes no seed (each render differs)"}[name]
    if origin.level == 2:  # the shot's own setting; a default is only not sent to this model
        severity = "warning" if name == "ratio" else "error"
        return origin.doc.diagnostic(origin.path, f"{model.id} {why}; remove {name} for this "
                                     "model", severity=severity)
    return origin.doc.diagnostic(origin.path, (
        f"{name} is not sent to the {model.id} shots that inherit it: {model.id} {why}"),
        severity="warning")


# --- references and voices ------------------------------------------------------------------


def _references(shot: ResolvedShot, model: Model, names: list[str], videos: int
                ) -> Iterator[Diagnostic]:
    elements = _elements(shot, names)
    names = [n for n in names if n not in elements]  # an element is no image nor video
    images = len(names) - videos
    if names and not model.takes_references:
        driven = (f"it is driven by {' (or '.join(model.needs)}{')' * (len(model.needs) - 1)}"
                  if model.needs else "it renders from the prompt alone")
        yield shot.doc.diagnostic(shot.path, (
            f"{model.id} takes no character references ({', '.join('@' + n for n in names)}): "
            f"{driven}; describe them in words without @, "
            "or use wan2.7-r2v or wan3.0-video for this shot"))
        return
    if not names and not model.needs_frame and not model.prompt_only and \
            not model.prompt_mode and (model.min_references or not _framed(shot)):
        frame = "" if model.min_references else " or a first_frame"
        own = (f" (storyboard's own rule: {model.id} also renders from a prompt alone, but "
               "storyboard asks every shot for a picture to hold it)") if model.text_only else ""
        yield shot.doc.diagnostic(shot.path, (
            "this shot has no reference: mention a character (@name) or list one in 'cast'; "
            f"expected at least one image or video{frame}{own}"))
    for kind, count, most in (("image", images, model.max_images),
                              ("video", videos, model.max_videos)):
        if count > most:
            yield shot.doc.diagnostic(shot.path, f"{count} {kind} references; {model.id} takes "
                                                 f"at most {most}")
    if len(names) > model.caps.max_references:
        yield shot.doc.diagnostic(shot.path, (
            f"{len(names)} references ({', '.join(names)}); expected at most "
            f"{model.caps.max_references} images and videos together"))


def _elements(shot: ResolvedShot, names: list[str]) -> list[str]:
    """The characters sent as their saved element (``identity:``), not as their sheet."""
    return [r.name for r in shot.references if r.role == "element" and r.name in names]


def _materials(shot: ResolvedShot, model: Model, names: list[str]) -> Iterator[Diagnostic]:
    """Kling 4.0's counts: saved elements, voices by id, frames among the images, and every
    item together."""
    elements = _elements(shot, names)
    if elements and len(elements) > model.max_elements:
        yield shot.doc.diagnostic(shot.path, (
            f"{len(elements)} characters sent as saved elements ({', '.join(elements)}); "
            f"{model.id} takes at most {model.max_elements}"))
    voice_ids = model.voices == "voice_id"  # the voices sent: of those who speak
    voices = sorted(_by_id(shot) & _speakers(shot)) if voice_ids else []
    if voice_ids and len(voices) > model.max_voice_ids:
        yield shot.doc.diagnostic(shot.path, (
            f"{len(voices)} voices by id ({', '.join(voices)}); {model.id} takes at most "
            f"{model.max_voice_ids}"))
    if not model.frames_count_as_images and model.max_materials is None:
        return  # most models: no count of frames and items together
    frames = len(set(STILLS) & _present(shot))
    videos = sum(1 for r in shot.references if r.role == "reference_video" and r.name in names)
    images = len(names) - len(elements) - videos
    if model.frames_count_as_images and frames and images + frames > model.max_images:
        yield shot.doc.diagnostic(shot.path, (
            f"{images} image references and {frames} frame(s); {model.id} takes at most "
            f"{model.max_images} images, its frames counted among them"))
    total = len(names) + frames + len(voices)
    if model.max_materials is not None and total > model.max_materials:
        yield shot.doc.diagnostic(shot.path, (
            f"{total} materials (references, elements, frames and voices); {model.id} takes "
            f"at most {model.max_materials} in all"))


def _present(shot: ResolvedShot) -> set[str]:
    has_first = shot.first_frame is not None or shot.first_frame_from is not None
    return set(shot.frames) | ({"first_frame"} if has_first else set())


def _framed(shot: ResolvedShot) -> bool:
    """The shot starts from a frame (or a clip) of its own."""
    return bool(shot.first_frame or shot.first_frame_from or
                {"middle_frame", "last_frame", "first_clip"} & set(shot.frames))


# --- frames ---------------------------------------------------------------------------------


def _frames(shot: ResolvedShot, model: Model, names: list[str]) -> Iterator[Diagnostic]:
    present = _present(shot)
    if not present and not model.needs_frame:
        return  # most shots: no frame, and none needed
    for role in sorted(present - set(model.frames)):
        takes = ", ".join(model.frames) or "no frames"
        others = [m.id for m in MODELS.values() if role in m.frames and not retirement(m.id)]
        yield shot.doc.diagnostic((*shot.path, role), (
            f"{model.id} takes no {role} (it takes {takes})"
            + (f"; models that take it: {', '.join(others)}" if len(others) <= 3 else "")))
    framed = sorted(present & set(STILLS))
    if names and framed and not model.frames_with_references:
        yield shot.doc.diagnostic((*shot.path, framed[0]), (
            f"{model.id} takes references or a first/last frame, not both: drop "
            f"{' and '.join(framed)} to keep {', '.join('@' + n for n in names)} as references, "
            "or drop the references to start from the frame"))
    for one, other in model.frames_apart:
        if {one, other} <= present:
            yield shot.doc.diagnostic((*shot.path, other), (
                f"{model.id} takes a {one} or a {other}, not both: drop {other} to start from "
                f"the picture, or drop {one} to continue the clip"))
    if model.needs_frame and not present & set(model.needs):
        yield shot.doc.diagnostic(shot.path, NEEDS.get(model.needs, (
            f"{model.id} needs one of {', '.join(model.needs)}")).format(model=model.id))


# What a model that needs a frame says when a shot has none, by the roles it needs.
NEEDS = {("first_frame", "first_clip"): (
    "{model} starts from a picture: give this shot a first_frame (a path, or {{from: SHOT}}) "
    "or a first_clip to continue"),
    ("first_frame",): "{model} starts from a picture: give this shot a first_frame (a path, "
                      "or {{from: SHOT}})",
    ("source_video",): "{model} edits a video: give this shot a source_video (MP4/MOV, a path "
                       "or URL)"}


# --- voices ---------------------------------------------------------------------------------


def _voices(shot: ResolvedShot, model: Model) -> Iterator[Diagnostic]:
    """A model that takes no voice: a voiced character's line would be spoken in a voice the
    model invents, so it is refused, never dropped in silence."""
    if model.voices not in ("none", "voice_id") or not model.takes_references:
        return
    speakers = _speakers(shot)
    voiced = [r.name for r in shot.references if r.voice is not None and r.name in speakers]
    if model.voices == "voice_id":
        recorded = [name for name in voiced if name not in _by_id(shot)]
        if recorded:
            yield shot.doc.diagnostic(shot.path, (
                f"{model.id} takes voices by their id on {model.identity} only: "
                f"{', '.join(recorded)} would speak in a voice the model invents; declare the "
                f"voice made there (characters.NAME.identity: {{{model.identity}: {{voice: ID}}}})"
                ", or describe the speech in the action instead of say"))
        return
    if voiced:
        yield shot.doc.diagnostic(shot.path, (
            f"{model.id} takes no voices: {', '.join(voiced)} would speak in a voice the model "
            "invents; use a model that takes voices (wan2.7-r2v, wan3.0-video) for this shot, "
            "or describe the speech in the action instead of say"))


def _speakers(shot: ResolvedShot) -> set[str]:
    """The characters whose lines the model speaks itself."""
    return {speaker for scene in shot.scenes for index, (speaker, _) in enumerate(scene.say)
            if liproutes.route_at(scene, index) == "voice_reference"}


def _by_id(shot: ResolvedShot) -> set[str]:
    return {r.name for r in shot.references if by_id(r.voice)}


# --- duration -------------------------------------------------------------------------------


def _duration(shot: ResolvedShot, model: Model, videos: int) -> Iterator[Diagnostic]:
    duration = shot.params.get("duration")
    if not isinstance(duration, int) or isinstance(duration, bool):
        return
    caps = model.caps
    low = caps.min_duration
    high = caps.max_duration_with_video if videos else caps.max_duration
    if duration == -1 and model.auto_duration:
        yield _at(shot, "duration", (
            f"duration -1 lets {model.id} choose the length, and a plan must know its cost; "
            f"expected {low} to {high} s"))
    elif not low <= duration <= high:
        why = " with a reference video" if videos else ""
        yield _at(shot, "duration", f"a {duration} s shot; expected {low} to {high} s{why}"
                                    + ("" if model.id == DEFAULT_MODEL else f" on {model.id}"))
    else:
        yield from _lengths(shot, model, duration)


def _lengths(shot: ResolvedShot, model: Model, duration: int) -> Iterator[Diagnostic]:
    """A model that renders only some lengths at a resolution (Hailuo 2.3: 6 or 10 s at 768P)."""
    resolution = str(shot.params.get("resolution"))
    lengths = model.lengths(resolution)
    if lengths and duration not in lengths:
        yield _at(shot, "duration", (
            f"a {duration} s shot; {model.id} renders {' or '.join(map(str, lengths))} s at "
            f"{resolution}"))


# --- where -----------------------------------------------------------------------------------


def _at(shot: ResolvedShot, name: str, message: str) -> Diagnostic:
    """A problem about parameter ``name``, at the key that set it (``defaults: {duration: 1}``
    is reported at that line), else at the shot (a duration its scenes set)."""
    origin = shot.origins.get(name)
    if origin is not None:
        return origin.doc.diagnostic(origin.path, message)
    return shot.doc.diagnostic(shot.path, message)




# --- seconds of the media -------------------------------------------------------------------


def seconds_problems(model: Model, duration: int, videos: list[float], audios: list[float],
                     edited: list[float] | None = None) -> Iterator[str]:
    """What the lengths of a shot's reference videos and audio break, and a shot longer than
    the video it edits (seconds of local files; 0: not known)."""
    if edited and 0 < edited[0] < duration:
        # The page: a duration cuts the output "from 0 s" of the video edited; a longer one is
        # not described: storyboard's reading is that it cannot be longer (a guess, documented).
        yield (f"a {duration} s shot of a {edited[0]:.2f} s source_video: {model.id} cuts its "
               f"output from the start of the video it edits; expected at most "
               f"{int(edited[0])} s")
    if model.max_reference_video_seconds is not None and \
            sum(videos) > model.max_reference_video_seconds:
        yield (f"its reference videos last {sum(videos):g} s together; {model.id} takes at "
               f"most {model.max_reference_video_seconds:g} s")
    if model.max_input_plus_output is not None and videos and \
            sum(videos) + duration > model.max_input_plus_output:
        yield (f"its reference videos ({sum(videos):g} s) and the {duration} s shot come to "
               f"more than {model.max_input_plus_output} s, {model.id}'s limit: shorten one")
    if model.max_reference_audio_seconds is not None and \
            sum(audios) > model.max_reference_audio_seconds:
        yield (f"its voices last {sum(audios):g} s together; {model.id} takes at most "
               f"{model.max_reference_audio_seconds:g} s of reference audio")
