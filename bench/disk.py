"""Benchmark: what a feature-length draft keeps in ``.storyboard/``, against its shots and episodes.

    python bench/disk.py [--shots N] [--episode-minutes M] [--skip-options]

Writes a Fountain screenplay of N scenes, runs ``storyboard init --from`` on it and
``storyboard render --draft`` (the local provider: nothing is paid, nothing leaves the machine),
then prints ``.storyboard/`` by kind and its size over the shots' plus the episodes' (issues 37
and 48: at most 2). ``init`` writes designed voices and spoken lines, so the draft's shots carry
sound. A render's stitch keeps the mezzanines' video but not their sound (made in its work folder:
``StitchOptions.keep_sound``, kept only by the studio); the options are measured on the same
shots: the sound kept as WavPack (lossless float, what earlier versions kept), as float WAV, as
FLAC (24-bit: not the same samples), or not kept (as chosen) (``--skip-options``: not measured).
The screenplay is cut into episodes of about M minutes (``init --episode-minutes``; the default, 7,
makes 15 episodes of 780 shots). Then a one-line edit re-drafted from the CLI, which re-joins only
what changed (the edited shot's sound and its two joins; every other join's encode is kept), as a
ratio of the cold first render and of the same edit re-joined whole (its episode's kept join
encodes removed first: every join encoded again, every shot's sound made for them, as before
joins were kept), both measured in the same run. Last, a second render of the series into another
folder must give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.run.state.housekeeping import MEZZANINE_SOUND, human, usage

# Each stitch timed here encodes its own shots: no folder shared by the machine's series
# (``STORYBOARD_STITCH_SHARED``, which the test suite sets) hands it a copy.
os.environ.pop("STORYBOARD_STITCH_SHARED", None)

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
    """Change shot n's first action: a one-line edit."""
    old = f"walks to window {n}."
    [episode] = [p for p in (series / "episodes").glob("*.yaml")
                 if old in p.read_text(encoding="utf-8")]
    text = episode.read_text(encoding="utf-8")
    episode.write_text(text.replace(old, f"runs to window {n}.", 1), encoding="utf-8")


def joins_folder(series: Path) -> Path:
    return series / ".storyboard" / "stitch-cache" / "mezzanine"


def set_joins_aside(series: Path, aside: Path) -> int:
    """Move every kept join encode (``stitch.sound.splice.joint_name``) to ``aside``: the next stitch
    of an episode encodes all its joins again, as stitches did before joins were kept."""
    aside.mkdir()
    joins = list(joins_folder(series).glob("*.j*.adts"))
    for path in joins:
        path.rename(aside / path.name)
    return len(joins)


def put_joins_back(series: Path, aside: Path) -> None:
    """The joins set aside that no stitch made again (the other episodes'), back in the cache."""
    for path in aside.iterdir():
        if not (joins_folder(series) / path.name).exists():
            path.rename(joins_folder(series) / path.name)


def measure_options(series: Path, folder: Path, state: int, shots: int, episodes: int) -> None:
    """What keeping each shot's sound would cost, in each codec."""
    (folder / "sounds").mkdir()
    sounds = sound_files(series, folder / "sounds")
    kept = sum(p.stat().st_size for p in sounds)
    wav, flac, same = other_codecs(sounds, folder)
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


def report_state(series: Path, out: Path, when: str) -> None:
    state, shots, episodes = sizes(series, out)
    ratio = state / (shots + episodes)
    print(f"{when}: shots {human(shots)}, episodes {human(episodes)}, .storyboard/ {human(state)}"
          f"; over shots + episodes {ratio:.2f} (target at most 2: "
          f"{'met' if ratio <= 2 else 'NOT met'})")


def outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.mp4"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=60)
    parser.add_argument("--episode-minutes", type=float, default=7.0)
    parser.add_argument("--skip-options", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storyboard-disk-") as tmp:
        folder = Path(tmp)
        series, out = folder / "s", folder / "s" / "out"
        storyboard("init", series, "--from", screenplay(folder / "script.fountain", args.shots),
                   "--episode-minutes", str(args.episode_minutes))
        cold = render(series, out)
        count = len(list((series / "episodes").glob("*.yaml")))
        state, shots, episodes = sizes(series, out)
        print(f"{args.shots} shots in {count} episode(s); first render (cold) {cold:.1f} s")
        for row in usage(series):
            print(f"  {row.kind:<48} {row.files:>6} file(s) {human(row.bytes):>10}")
        print(f"shots {human(shots)}, episodes {human(episodes)}, .storyboard/ {human(state)}")
        ratio = state / (shots + episodes)
        print(f".storyboard/ over shots + episodes: {ratio:.2f} (the mezzanines' sound not kept, "
              f"as chosen; target at most 2: {'met' if ratio <= 2 else 'NOT met'})")
        if not args.skip_options:
            measure_options(series, folder, state, shots, episodes)
        edit(series, 1)
        warm = render(series, out)
        edit(series, 2)
        forgot = set_joins_aside(series, folder / "joins-aside")
        whole = render(series, out)
        put_joins_back(series, folder / "joins-aside")
        print(f"a one-line edit re-drafted (only what changed re-joined): {warm:.1f} s = "
              f"{warm / cold:.3f} x the cold render, {warm / whole:.2f} x the same edit re-joined "
              f"whole ({whole:.1f} s, {forgot} kept join encodes removed first)")
        report_state(series, out, "after the edits")
        render(series, folder / "again")
        same = outputs(out) == outputs(folder / "again")
        print(f"the series rendered again into another folder gives the same bytes: {same}")
        assert MEZZANINE_SOUND not in {r.kind for r in usage(series)}


if __name__ == "__main__":
    main()
