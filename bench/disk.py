"""Benchmark: what a feature-length draft keeps in ``.storyboard/``, against its shots and episodes.

    python bench/disk.py [--shots N]

Writes a Fountain screenplay of N scenes, runs ``storyboard init --from`` on it and
``storyboard render --draft`` (the local provider: nothing is paid, nothing leaves the machine),
then prints ``.storyboard/`` by kind and its size over the shots' plus the episodes' (issues 37
and 48: at most 2). ``init`` writes designed voices and spoken lines, so the draft's shots carry
sound. A render's stitch keeps the mezzanines' video but not their sound (made in its work folder:
``StitchOptions.keep_sound``, kept only by the studio); the options are measured on the same
shots: the sound kept as WavPack (lossless float, what earlier versions kept), as float WAV, as
FLAC (24-bit: not the same samples), or not kept (as chosen). Then the cost of a re-render after a
one-shot edit (every mezzanine's sound made again: one audio pass per shot), as a ratio of the
first, cold render measured in the same run. Last, a second stitch of the same episode into
another folder must give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.run.housekeeping import MEZZANINE_SOUND, human, usage

CLI = [sys.executable, "-m", "storyboard"]
PLACES = 40  # distinct rooms, reused: a screenplay has at most 400 places (init's limit)


def screenplay(path: Path, scenes: int) -> Path:
    lines = ["Title: Disk bench", "", ""]
    for i in range(scenes):
        lines += [f"INT. ROOM {i % PLACES} - DAY", "", f"Mia walks to window {i}.", "", "MIA",
                  f"This is line {i}, spoken in the room.", "", f"She turns away from {i}.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def storyboard(*args: str | Path) -> float:
    """Run the CLI; the seconds it took."""
    start = time.perf_counter()
    subprocess.run([*CLI, *map(str, args)], check=True, capture_output=True)
    return time.perf_counter() - start


def render(series: Path, out: Path) -> float:
    return storyboard("render", series, "--draft", "--yes", "-o", out)


def sizes(series: Path, out: Path) -> tuple[int, int, int]:
    """(.storyboard/, shots, episodes) in bytes."""
    rows = usage(series)
    state = sum(r.bytes for r in rows)
    shots = sum(r.bytes for r in rows if r.kind.startswith("shots ("))
    episodes = sum(p.stat().st_size for p in out.rglob("*.mp4"))
    return state, shots, episodes


def sound_files(series: Path, work: Path) -> list[Path]:
    """Each shot's sound as a mezzanine would keep it (48 kHz stereo float, WavPack), made in
    ``work`` from the shots the render made: what keeping the sound would cost."""
    made = []
    shots = sorted((series / ".storyboard" / "cache").glob("*/*.mp4"))
    for n, shot in enumerate(shots):
        sound = work / f"sound{n:05d}.wv"
        ffmpeg.run(["-i", str(shot), "-vn", "-af",
                    "aformat=sample_fmts=flt:sample_rates=48000:channel_layouts=stereo",
                    "-c:a", "wavpack", "-f", "wv", str(sound)], what="a mezzanine's sound")
        made.append(sound)
    return made


def samples_of(path: Path, work: Path) -> str:
    raw = work / "samples.f32"
    ffmpeg.run(["-i", str(path), "-f", "f32le", "-c:a", "pcm_f32le", str(raw)], what="decoding")
    return hashlib.sha256(raw.read_bytes()).hexdigest()


def other_codecs(sounds: list[Path], work: Path) -> tuple[int, int, bool]:
    """(WAV bytes, FLAC bytes, whether FLAC gives the same samples) for these WavPack files."""
    wav_total = flac_total = 0
    same = True
    for sound in sounds:
        wav, flac = work / "s.wav", work / "s.flac"
        ffmpeg.run(["-i", str(sound), "-c:a", "pcm_f32le", "-f", "wav", str(wav)], what="wav")
        ffmpeg.run(["-i", str(wav), "-c:a", "flac", "-sample_fmt", "s32", "-f", "flac", str(flac)],
                   what="flac")
        wav_total += wav.stat().st_size
        flac_total += flac.stat().st_size
        same = same and samples_of(flac, work) == samples_of(sound, work)
    return wav_total, flac_total, same


def real_sound(work: Path) -> tuple[int, int, int]:
    """(WAV, WavPack, FLAC) bytes of 10 s of noise and tone decoded from AAC, as a mezzanine's."""
    src = work / "real.m4a"
    ffmpeg.run(["-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.2:d=10:seed=7", "-f", "lavfi",
                "-i", "sine=f=300:d=10", "-filter_complex",
                "[0][1]amix=normalize=0,aformat=channel_layouts=stereo", "-c:a", "aac",
                "-b:a", "128k", "-ar", "48000", str(src)], what="a real sound")
    out = []
    for codec, fmt, extra in (("pcm_f32le", "wav", []), ("wavpack", "wv", []),
                              ("flac", "flac", ["-sample_fmt", "s32"])):
        path = work / f"real.{fmt}"
        ffmpeg.run(["-i", str(src), "-af", "aformat=sample_fmts=fltp:channel_layouts=stereo",
                    "-c:a", codec, *extra, "-f", fmt, str(path)], what=codec)
        out.append(path.stat().st_size)
    return out[0], out[1], out[2]


def edit(series: Path, n: int) -> None:
    """Change shot n's first action: a one-shot edit."""
    [episode] = (series / "episodes").glob("*.yaml")
    text = episode.read_text(encoding="utf-8")
    episode.write_text(text.replace(f"walks to window {n}.", f"runs to window {n}.", 1),
                       encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storyboard-disk-") as tmp:
        folder = Path(tmp)
        series, out = folder / "s", folder / "s" / "out"
        storyboard("init", series, "--from", screenplay(folder / "script.fountain", args.shots),
                   "--episode-minutes", "600")
        cold = render(series, out)
        state, shots, episodes = sizes(series, out)
        print(f"{args.shots} shots, one episode; first render (cold) {cold:.1f} s")
        for row in usage(series):
            print(f"  {row.kind:<48} {row.files:>6} file(s) {human(row.bytes):>10}")
        (folder / "sounds").mkdir()
        sounds = sound_files(series, folder / "sounds")
        kept = sum(p.stat().st_size for p in sounds)
        wav, flac, same = other_codecs(sounds, folder)
        print(f"shots {human(shots)}, episodes {human(episodes)}, .storyboard/ {human(state)}")
        ratio = state / (shots + episodes)
        print(f".storyboard/ over shots + episodes: {ratio:.2f} (the mezzanines' sound not kept, "
              f"as chosen; target at most 2: {'met' if ratio <= 2 else 'NOT met'})")
        print(f"  with the sound kept as WavPack:    {(state + kept) / (shots + episodes):.2f}"
              f"  ({human(kept)}, lossless float: what earlier versions kept)")
        print(f"  with the sound kept as float WAV:  {(state + wav) / (shots + episodes):.2f}"
              f"  ({human(wav)} of WAV)")
        print(f"  with the sound kept as FLAC:       {(state + flac) / (shots + episodes):.2f}"
              f"  ({human(flac)}; same samples: {same})")
        r_wav, r_wv, r_flac = real_sound(folder)
        print(f"10 s of real sound: WAV {human(r_wav)}, WavPack {human(r_wv)} "
              f"({r_wv / r_wav:.0%}), FLAC {human(r_flac)} ({r_flac / r_wav:.0%}, not the same "
              f"samples)")
        edit(series, 1)
        warm = render(series, out)
        print(f"re-render after a one-shot edit (every shot's sound made again): {warm:.1f} s = "
              f"{warm / cold:.2f} x the cold render")
        [first] = out.rglob("*.mp4")
        render(series, folder / "again")
        [second] = (folder / "again").rglob("*.mp4")
        print(f"the same episode stitched twice gives the same bytes: "
              f"{first.read_bytes() == second.read_bytes()}")
        assert MEZZANINE_SOUND not in {r.kind for r in usage(series)}


if __name__ == "__main__":
    main()
