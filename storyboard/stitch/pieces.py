"""Timeline pieces into intermediate files: each piece's video (H.264 MP4) and audio (PCM WAV).

Each piece is one small ffmpeg process reading at most two clips, so pieces render in parallel and
memory stays flat however long the episode is. Every input is brought to the episode format (scaled
to fit and padded, episode frame rate, yuv420p, 48 kHz stereo, silence where a clip has no audio),
then trimmed by frame and by sample to exactly the piece's stretch: audio is padded/trimmed to the
video, so it never drifts. Audio stays PCM until the final join encodes it once (no AAC priming per
piece).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard import ffmpeg
from storyboard.stitch import transitions
from storyboard.stitch.concat import ClipFacts, EpisodeFormat, remux_video
from storyboard.stitch.model import StitchOptions
from storyboard.stitch.timeline import Piece, Timeline

G = ffmpeg.graph


@dataclass(frozen=True)
class RenderJob:
    """Everything one piece needs; ``copy_video`` reuses a matching clip's own video packets."""

    piece: Piece
    index: int
    work: Path
    copy_video: bool = False

    @property
    def video_file(self) -> Path:
        return self.work / f"piece{self.index:05d}.mp4"

    @property
    def audio_file(self) -> Path:
        return self.work / f"piece{self.index:05d}.wav"


@dataclass(frozen=True)
class Context:
    clips: list[ClipFacts]
    timeline: Timeline
    fmt: EpisodeFormat
    options: StitchOptions
    burn_file: Path | None = None  # an ASS script made for libass (see subtitles.burn_ass)


def _video(v: Any, fmt: EpisodeFormat, first: int, frames: int) -> Any:
    """Clip frames [first, first + frames) in the episode format, timestamps from 0."""
    v = v.filter("fps", fps=str(fmt.fps))
    v = v.filter("scale", w=fmt.width, h=fmt.height, force_original_aspect_ratio="decrease",
                 force_divisible_by=2, flags=ffmpeg.SWS_FLAGS)
    v = v.filter("pad", w=fmt.width, h=fmt.height, x="(ow-iw)/2", y="(oh-ih)/2", color="black")
    v = v.filter("setsar", "1").filter("format", "yuv420p")
    # A clip may decode one frame short of its measured length: clone the last frame, never run dry.
    v = v.filter("tpad", stop_mode="clone", stop=2)
    v = v.filter("trim", start_frame=first, end_frame=first + frames)
    return v.filter("setpts", "PTS-STARTPTS")


def _silence(fmt: EpisodeFormat) -> Any:
    return G.input(f"anullsrc=r={fmt.sample_rate}:cl=stereo", f="lavfi").audio


def _audio(a: Any, fmt: EpisodeFormat, first: int, samples: int) -> Any:
    """Clip samples [first, first + samples) at 48 kHz stereo (``a``: its audio or silence)."""
    a = a.filter("aresample", fmt.sample_rate)
    a = a.filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
    a = a.filter("apad")  # a short track is padded with silence, a long one trimmed below
    a = a.filter("atrim", start_sample=first, end_sample=first + samples)
    return a.filter("asetpts", "PTS-STARTPTS")


def _burn(v: Any, ctx: Context, start_frame: int) -> Any:
    """Burn subtitles in, timed on the episode clock (the piece starts at ``start_frame``)."""
    if ctx.burn_file is None:
        return v
    offset = ctx.timeline.seconds(start_frame)
    v = v.filter("setpts", f"PTS-STARTPTS+{offset:.6f}/TB")
    v = v.filter("subtitles", filename=str(ctx.burn_file),
                 fontsdir=str(ffmpeg.font_path().parent))
    return v.filter("setpts", "PTS-STARTPTS")


def _local_sample(tl: Timeline, clip_index: int, episode_frame: int) -> int:
    """Where episode frame ``episode_frame`` falls in clip ``clip_index``'s audio, in samples."""
    return tl.sample(episode_frame) - tl.sample(tl.starts[clip_index])


def _streams(job: RenderJob, ctx: Context) -> tuple[Any, Any]:
    piece, tl, fmt = job.piece, ctx.timeline, ctx.fmt
    end = piece.start + piece.frames
    samples = tl.sample(end) - tl.sample(piece.start)
    clip = ctx.clips[piece.clip]
    first = _local_sample(tl, piece.clip, piece.start)
    if piece.transition is None:
        v_in, a_in = _sources(clip, fmt)
        v = _video(v_in, fmt, piece.local_start, piece.frames)
        a = _audio(a_in, fmt, first, samples)
        return _burn(v, ctx, piece.start), a
    after = ctx.clips[piece.clip + 1]
    if after.path == clip.path:
        # ffmpeg-python merges identical nodes, so one file used twice must be split explicitly.
        (v_in, a_in), (v_after, a_after) = _split_sources(clip, fmt)
    else:
        (v_in, a_in), (v_after, a_after) = _sources(clip, fmt), _sources(after, fmt)
    overlap_start = end - piece.overlap  # the next clip's first frame, on the episode clock
    head_samples = tl.sample(end) - tl.sample(overlap_start)
    v = transitions.join_video(_video(v_in, fmt, piece.local_start, piece.frames),
                               _video(v_after, fmt, 0, piece.overlap), piece.transition,
                               tl.seconds(overlap_start - piece.start), tl.seconds(piece.overlap))
    a = transitions.join_audio(_audio(a_in, fmt, first, samples),
                               _audio(a_after, fmt, 0, head_samples), head_samples)
    return _burn(v, ctx, piece.start), a


def _sources(clip: ClipFacts, fmt: EpisodeFormat) -> tuple[Any, Any]:
    """The clip's video stream and its audio (or silence)."""
    source = G.input(str(clip.path))
    return source.video, source.audio if clip.audio is not None else _silence(fmt)


def _split_sources(clip: ClipFacts, fmt: EpisodeFormat) -> tuple[tuple[Any, Any], ...]:
    source = G.input(str(clip.path))
    video = source.video.split()
    if clip.audio is None:
        return (video[0], _silence(fmt)), (video[1], _silence(fmt).filter("anull"))
    sound = source.audio.filter_multi_output("asplit")
    return (video[0], sound[0]), (video[1], sound[1])


def _encode_args(options: StitchOptions, fmt: EpisodeFormat) -> dict[str, Any]:
    return {"vcodec": "libx264", "preset": options.preset, "crf": options.crf,
            "pix_fmt": "yuv420p", "video_track_timescale": fmt.timescale, "f": "mp4"}


def render(job: RenderJob, ctx: Context) -> RenderJob:
    """Write the piece's video and audio files (one ffmpeg process, or a remux plus one)."""
    v, a = _streams(job, ctx)
    audio_out = G.output(a, str(job.audio_file), acodec="pcm_f32le", f="wav")
    name = ctx.clips[job.piece.clip].path.name
    if job.copy_video:
        remux_video(ctx.clips[job.piece.clip].path, job.video_file, ctx.fmt.timescale)
        ffmpeg.run_graph(audio_out, what=f"normalising the audio of {name}")
        return job
    video_out = G.output(v, str(job.video_file), **_encode_args(ctx.options, ctx.fmt))
    what = (f"joining {name} to the next clip ({job.piece.transition})" if job.piece.transition
            else f"normalising {name}")
    ffmpeg.run_graph(G.merge_outputs(video_out, audio_out), what=what)
    return job
