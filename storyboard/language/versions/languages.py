"""A series' ``languages:`` into its versions: the original, each episode's, the voices speaking them.

``languages: [en, es, pt-BR]`` on the series: BCP-47 tags (a language, optionally a script and a
region; the schema holds the form), the first the original the cut is made in, each other a
*version* of the same approved cut (docs/languages.md): new words, voices and mouths, the same
shots and takes. An episode may narrow it (``languages: [en, es]``: this episode is versioned
into Spanish only); a language the series does not list is refused at the episode's line.

Voices: a character speaks every version in its own designed voice, the same voice id spoken with
another ``language_type`` (qwen3-tts-vd takes one per call, from the voice design's languages).
A version's language the speech model does not speak, or a speaker whose voice is not designed
(none, or a recorded clip: storyboard cannot make it say other words), is refused at the
character's voice line with the languages it can speak or what to declare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.expansion.matrix import DECLARED
from storyboard.language.read.series import Source
from storyboard.language.read.tags import FORM, is_tag, problem
from storyboard.language.resolving.resolve import ResolvedEpisode, Resolver
from storyboard.targets.cast.assets import QWEN_VOICE_DESIGN

KEY = "languages"
SPOKEN = QWEN_VOICE_DESIGN.languages  # the languages a designed voice speaks (language_type)


def primary(tag: str) -> str:
    """The language of a tag, without script or region: ``pt`` of ``pt-BR``."""
    return tag.split("-", 1)[0].lower()


def speech_language(tag: str) -> str | None:
    """The language a designed voice is asked to speak ``tag`` in (``pt`` for ``pt-BR``,
    sent as its ``language_type``); None: the speech model speaks no such language."""
    code = primary(tag)
    return code if code in SPOKEN else None


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def series_languages(series: Mapping[str, Any] | Any) -> tuple[str, ...]:
    """The series' ``languages`` (``()``: none declared, the series has no versions)."""
    return _tags(series.get(KEY)) if isinstance(series, Mapping) else ()


def original(series: Mapping[str, Any] | Any) -> str | None:
    """The language the cut is made in: the first of ``languages`` (None: none declared)."""
    found = series_languages(series)
    return found[0] if found else None


def episode_ids(source: Source) -> dict[str, Mapping[str, Any]]:
    """Each episode's data by its id, in order (as the compiler names them)."""
    found: dict[str, Mapping[str, Any]] = {}
    for episode in source.episodes:
        data = episode.doc.get(episode.path)
        if isinstance(data, dict):
            found.setdefault(str(data.get("id") or episode.default_id), data)
    return found


def versions_of(series: Mapping[str, Any] | Any, episode: Mapping[str, Any]) -> tuple[str, ...]:
    """The languages ``episode`` is versioned into: its own list if it narrows the series',
    else every language of the series after the original (only those the series lists)."""
    langs = series_languages(series)
    if not langs:
        return ()
    own = _tags(episode.get(KEY)) if KEY in episode else langs
    return tuple(lang for lang in langs[1:] if lang in own)


def episodes_in(source: Source, language: str) -> list[str]:
    """The ids of the episodes versioned into ``language``, in order."""
    series = source.series.data
    return [ep for ep, data in episode_ids(source).items() if language in versions_of(series, data)]


def unknown_language(source: Source, language: str) -> Diagnostic | None:
    """A command's ``--language`` the series does not version into, at its ``languages`` line
    (or at the series' top when it has none)."""
    doc, langs = source.series, series_languages(source.series.data)
    if language in langs[1:]:
        return None
    if not langs:
        return doc.diagnostic((), f"this series declares no languages, so it has no {language} "
                                  "version; expected languages: [ORIGINAL, "
                                  f"{language}] in storyboard.yaml (the first is the original)",
                              code="language-unknown")
    said = "the original" if language == langs[0] else "not one of the series' languages"
    return doc.diagnostic((KEY,), f"{language!r} is {said} ({', '.join(langs)}); expected one of "
                                  f"its versions: {', '.join(langs[1:]) or 'none declared'}",
                          key=True, code="language-unknown")


# --- check -------------------------------------------------------------------------------------


def lint(resolver: Resolver, episodes: Sequence[ResolvedEpisode]) -> list[Diagnostic]:
    """The languages' problems: an episode's language not in the series' list, and each voice
    that cannot speak a version its character speaks in."""
    series = resolver.series
    langs = series_languages(series)
    declared = _tags(series.get(DECLARED)) if isinstance(series, Mapping) else ()
    problems = [p for e in episodes
                for p in _narrowed(e.doc, e.path, e.doc.get(e.path), declared or langs)]
    problems += _unknown(resolver.source.series)
    langs = tuple(lang for lang in langs if is_tag(lang))  # a wrong tag: said once, above
    if len(langs) < 2:
        return problems
    spoken: dict[str, set[str]] = {}  # each speaker's version languages
    for episode in episodes:
        data = episode.doc.get(episode.path)
        versions = versions_of(series, data if isinstance(data, dict) else {})
        for speaker in _speakers(episode):
            spoken.setdefault(speaker, set()).update(versions)
    for speaker, wanted in spoken.items():
        problems += _voice(resolver, speaker, [v for v in langs if v in wanted])
    return problems


def _narrowed(doc: Document, where: PathKey, data: Any, langs: tuple[str, ...]
              ) -> list[Diagnostic]:
    if not isinstance(data, dict) or KEY not in data:
        return []
    if not langs:
        return [doc.diagnostic((*where, KEY), "this episode narrows the series' languages, and "
                               "the series declares none; expected languages: [ORIGINAL, ...] "
                               "in storyboard.yaml first", key=True, code="language-unknown")]
    return [doc.diagnostic((*where, KEY, i), f"{tag!r} is not one of the series' languages "
                           f"({', '.join(langs)}); expected a subset of them (add it to the "
                           "series' languages: to version into it)", code="language-unknown")
            for i, tag in enumerate(_tags(data[KEY]))
            if tag not in langs and FORM.match(tag)]  # not a tag's form: the schema says so


def _unknown(doc: Document) -> list[Diagnostic]:
    """Each tag of the series' list of BCP-47's form that names no language (``sp``), at its
    place with what it likely means (a tag not of the form: the schema's own error says so)."""
    listed = doc.get((KEY,))
    if not isinstance(listed, list):
        return []
    return [doc.diagnostic((KEY, i), said, code="language-tag")
            for i, tag in enumerate(listed) if isinstance(tag, str) and FORM.match(tag)
            and (said := problem(tag)) is not None]


def _speakers(episode: ResolvedEpisode) -> Iterable[str]:
    for shot in episode.shots:
        for scene in shot.scenes:
            yield from (speaker for speaker, _ in scene.say)


def _voice(resolver: Resolver, speaker: str, wanted: list[str]) -> list[Diagnostic]:
    """``speaker``'s voice against the versions it speaks in (an unknown speaker: its own
    error says so)."""
    character = resolver.characters.get(speaker)
    if character is None or not wanted:
        return []
    doc = resolver.source.series
    where = (*character.where, "voice")
    voice = character.voice
    if voice not in resolver.designed:
        has = f"voice {voice!r}, a recorded clip" if voice else "no voice"
        return [doc.diagnostic(where if voice else character.where, (
            f"{speaker} speaks in the {', '.join(wanted)} version(s) and has {has}: a version's "
            "line is spoken in the character's designed voice; expected a designed voice "
            "(voices: {NAME: {design: ..., sample: ...}}) named by voice: here"),
            key=not voice, code="language-voice")]
    cannot = [lang for lang in wanted if speech_language(lang) is None]
    if not cannot:
        return []
    return [doc.diagnostic(where, (
        f"{speaker}'s designed voice {voice!r} cannot speak {', '.join(cannot)} (the speech "
        f"model speaks {', '.join(SPOKEN)}); expected the series' languages among them, or "
        f"this episode's languages: narrowed to leave {', '.join(cannot)} out"),
        code="language-voice")]
