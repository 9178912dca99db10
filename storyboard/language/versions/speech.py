"""A version's lines and a compiled series into the version's spoken lines: one speech asset per
line, in the speaker's own designed voice, hashed over its words and its language.

A version (``languages/<lang>/<episode>.yaml``, ``translation.versions``) is the approved cut with
new words. Each of its lines is spoken by ``qwen3-tts-vd`` (the series' speech model) in the voice
the speaker was designed with, its ``language_type`` the version's language: an asset
``lines/<lang>/<EP>/<SHOT>/<N>`` whose hash is the digest of the model, the words, the voice's
take and the language, so the same words in the same voice and language are made once (a hand
edit of the words is a new line). How long a made line lasts is measured from its audio, never
guessed, and its fit said by ``language.versions.fit`` (docs/languages.md, "Dubbing").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.hashing import digest
from storyboard.language.request import AssetRequest, CompiledEpisode, CompiledShot
from storyboard.language.resolving.cast import asset_id, asset_shot
from storyboard.language.versions.languages import speech_language
from storyboard.language.versions.versionfile import Version, VersionLine, is_untranslated

KIND = "lines"  # a version's line is a line asset like any other: ``lines/es/ep01/hook/1``


@dataclass(frozen=True)
class SpokenLine:
    """One line of a version: its episode, the version's line, and the speech asset that says it."""

    episode: str
    line: VersionLine
    asset: CompiledShot

    @property
    def asset_id(self) -> str:
        return asset_id(self.asset.episode, self.asset.id)


def line_name(language: str, episode: str, line: VersionLine) -> str:
    """The line's name among the assets: ``es/ep01/hook/1``."""
    return f"{language}/{episode}/{line.shot}/{line.n}"


def version_line(series: str, language: str, episode: str, line: VersionLine, voice: str,
                 voice_hash: str, speech_model: str) -> SpokenLine:
    """The speech asset of ``line``, spoken in ``voice`` (``voices/NAME``, its take in use
    ``voice_hash``) in ``language``: the language and the words are in its hash."""
    name = line_name(language, episode, line)
    request = AssetRequest("speech", speech_model, line.text, name, voice=voice,
                           language=speech_language(language) or language)
    form = {"asset": "speech", "model": speech_model, "text": line.text,
            "voice": {"asset": voice_hash}, "language": language}
    shot = asset_shot(series, KIND, name, request, form, line.span, {})
    shot.needs = {voice: voice_hash}
    return SpokenLine(episode, line, shot)


def version_lines(series: str, language: str, versions: Sequence[Version],
                  episodes: Mapping[str, CompiledEpisode], voices: Mapping[str, tuple[str, str]],
                  speech_model: str) -> list[SpokenLine]:
    """Every line of ``versions`` as its speech asset (``voices``: a speaker's designed voice,
    ``voices/NAME``, and the hash of its take in use). Every problem at its line of the version
    file: a shot the episode does not have, a line with no words, a speaker with no designed
    voice."""
    problems: list[Diagnostic] = []
    made: list[SpokenLine] = []
    for version in versions:
        shots = {s.id for s in episodes[version.episode].shots} \
            if version.episode in episodes else set()
        for line in version.lines:
            problem = _problem(version, line, shots, voices)
            if problem:
                problems.append(_at(line, problem))
                continue
            voice, voice_hash = voices[line.speaker]
            made.append(version_line(series, language, version.episode, line, voice, voice_hash,
                                     speech_model))
    if problems:
        raise ProblemsFound(problems)
    return made


def _problem(version: Version, line: VersionLine, shots: set[str],
             voices: Mapping[str, tuple[str, str]]) -> str:
    if line.shot not in shots:
        return (f"episode {version.episode} has no shot {line.shot!r}: expected one of "
                f"{', '.join(sorted(shots)) or '(none)'}")
    if is_untranslated(line):
        return (f"this line ({line.shot} #{line.n}) has no {version.language} words yet: write "
                "its text (or translate it) before the version is dubbed")
    if line.speaker not in voices:
        return (f"{line.speaker} has no designed voice: a version's line is spoken in the "
                "speaker's own designed voice (voices: {NAME: {design: ..., sample: ...}})")
    return ""


def _at(line: VersionLine, message: str) -> Diagnostic:
    return Diagnostic(line.span, message, code="version-line")


def window_digest(lines: Sequence[SpokenLine]) -> str:
    """A digest of a version's lines as made (for names of files that depend on all of them)."""
    return digest([[d.asset_id, d.asset.hash, d.line.start] for d in lines])
