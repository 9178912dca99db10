"""A version's cut, its made lines and passes into its episodes: ``out/<lang>/<EP>.mp4`` with
the version's sound and subtitles in its language.

The mix (docs/languages.md, "Dubbing"): a shot's own sound carries the original language's
speech, so a shot with lines in the version takes the version's sound instead (its lines, each
at its window, on silence: ``stitch.series.heard.dubbed``), over its lip-sync pass where a face speaks,
else over its approved take; a shot with no line keeps its own sound (ambience, effects); the
music bed, cards and delivery settings are the episode's own, so the stitcher mixes the bed under
the version exactly as under the original; the episode's title (its delivered title card) is the
version file's ``title:`` when it has one, and the card's "Episode N" its ``label:``. Each line
of a dubbed shot says the version's words (the subtitles, ``.srt`` and ``.vtt`` beside the
episode, burned in when the series' delivery asks for it). The original's episodes and stitch
state are never touched: the version's are kept under ``.storyboard/stitch/languages/<lang>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from storyboard.files import made_series_folder, series_folder
from storyboard.language.request import CompiledEpisode, CompiledShot, Line, Manifest
from storyboard.language.versions.speech import SpokenLine
from storyboard.run.rendering import build_episode
from storyboard.run.versions.cut import VersionCut
from storyboard.stitch.series.episodes import EpisodeBuilder, EpisodeOutput, output_dir
from storyboard.stitch.series.heard import dubbed

Made = Callable[[SpokenLine], Path | None]


def version_folder(manifest: Manifest, out: Path | None, language: str,
                   made_as: str | None = None) -> Path:
    """Where a version's episodes go: the original's output folder's ``<lang>/``; a matrix's
    language variation's own folder (``<variation>/``) when it is made as one; a link on the
    way inside the series is a LinkedStateFolder (``files.series_folder``)."""
    folder = output_dir(manifest, out) / (made_as.partition("/")[2] if made_as else language)
    return series_folder(manifest.root, folder)


def stitch_version(cut: VersionCut, passes: Mapping[str, Path], made: Made, out: Path | None,
                   on_episode: Callable[[EpisodeOutput], None] | None = None
                   ) -> list[EpisodeOutput]:
    """Each episode of the version stitched (``passes``: each re-lipped shot's pass file, by
    ``EP/SHOT``; ``made``: each line's made audio); ``on_episode`` hears each begin, go on
    (its ffmpeg runs' progress) and end."""
    target = made_series_folder(cut.manifest.root,
                                version_folder(cut.manifest, out, cut.language, cut.made_as))
    builder = EpisodeBuilder(cut.manifest, target, draft=False)
    builder.state_dir = builder.state_dir / "languages" / cut.language
    builder.labels = version_labels(cut)
    folder = builder.cache_dir / "heard"
    built = []
    for episode in cut.episodes:
        used, done = version_episode(cut, episode, passes, made, folder)
        built.append(build_episode(builder, used, done, target, on_episode))
        if on_episode is not None:
            on_episode(built[-1])
    return built


def version_episode(cut: VersionCut, episode: CompiledEpisode, passes: Mapping[str, Path],
                    made: Made, folder: Path) -> tuple[CompiledEpisode, dict[str, Path]]:
    """The episode as the version plays it, and each shot's clip by shot id."""
    shots, done = [], {}
    for shot in episode.shots:
        approved = cut.approved[shot.shot_id]
        lines = cut.lines_of(episode.id, shot.id)
        take = replace(approved.take, id=shot.id, others=[])
        video = passes.get(shot.shot_id, approved.video)
        if lines:
            heard = [(path, d.line.start) for d in lines if (path := made(d)) is not None]
            take, video = spoken(take, lines), dubbed(video, heard, folder)
        shots.append(take)
        done[shot.id] = video
    settings = {k: v for k, v in episode.settings.items() if k != "hook"}  # the original's words
    return replace(episode, shots=shots, title=version_title(cut, episode),
                   settings=settings), done


def version_title(cut: VersionCut, episode: CompiledEpisode) -> str:
    """The episode's title as its version says it (its title card's words), else its own."""
    version = next((v for v in cut.versions if v.episode == episode.id), None)
    title = version.title if version is not None else None
    return title.text if title is not None and title.text.strip() else episode.title


def version_labels(cut: VersionCut) -> dict[str, str]:
    """Each episode's "Episode N" as its version says it (its file's ``label:``), by id."""
    return {v.episode: v.label.text for v in cut.versions
            if v.label is not None and v.label.text.strip()}


def spoken(shot: CompiledShot, lines: list[SpokenLine]) -> CompiledShot:
    """``shot`` whose lines say the version's words (the N-th spoken line, in document order,
    is the version's line N); a line the version does not list is left out (no subtitle in
    another language), and no line keeps an audio of the original's to mix."""
    words = {d.line.n: d.line for d in lines}
    count, scenes = 0, []
    for scene in shot.request.scenes:
        kept: list[Line] = []
        for line in scene.lines:
            count += 1
            said = words.get(count)
            if said is not None:
                kept.append(replace(line, text=said.text, start=said.start, end=said.end,
                                    audio=None))
        scenes.append(replace(scene, lines=tuple(kept)))
    return replace(shot, request=replace(shot.request, scenes=tuple(scenes)))
