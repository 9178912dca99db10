"""What a series keeps on disk (issue 23): leftovers of killed renders, one copy of each local shot,
``storyboard cache`` and its ``prune``, and lock entries of variations no longer in the matrix."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import invoke
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]

TWO_SHOTS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
    - {id: b, prompt: "@mia smiles"}
"""


def rendered(series: Path, *args: str | Path) -> dict[str, Any]:
    result = invoke("render", series, "--json", "--yes", *args)
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture
def series(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "s", make_media, TWO_SHOTS, head=MIA_HEAD)


def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_a_killed_local_renders_leftover_is_removed_by_the_next_run(
        series: Path, tmp_path: Path) -> None:
    local = series / ".storyboard" / "local"
    local.mkdir(parents=True)
    dead = local / f".local-0123456789abcdef-local-r3.p{dead_pid()}.k3x9_q0z.mp4"
    dead.write_bytes(b"half an animatic")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        running = local / f".local-fedcba9876543210-local-r3.p{alive.pid}.ab12cd34.mp4"
        running.write_bytes(b"another run is writing this")
        try:
            rendered(series, "--draft", "-o", tmp_path / "out")
        finally:
            alive.kill()
    assert not dead.exists()
    assert running.exists()  # a living process's file is never touched


MATRIX_HEAD = MIA_HEAD + """\
vars: {lang: en}
variations:
  matrix:
    lang: [en, es, de]
  name: "{{ lang }}"
"""
ONE_SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves, saying hello in {{ lang }}"}
"""


def locked_variations(series: Path) -> set[str]:
    shots = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    return {str(entry["series"]).split("/", 1)[1] for entry in shots.values()}


def test_lock_entries_of_variations_removed_from_the_matrix_are_pruned(
        tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "m", make_media, ONE_SHOT, head=MATRIX_HEAD)
    rendered(series, "-o", tmp_path / "out")
    assert locked_variations(series) == {"en", "es", "de"}
    rendered(series, "--variation", "en", "-o", tmp_path / "out")  # a selection prunes nothing
    assert locked_variations(series) == {"en", "es", "de"}
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text().replace("[en, es, de]", "[en, de]"))
    rendered(series, "--variation", "en", "-o", tmp_path / "out")
    assert locked_variations(series) == {"en", "de"}


def videos(series: Path) -> dict[str, Path]:
    """Shot hash -> its video in the output cache."""
    [folder] = (series / ".storyboard" / "cache").iterdir()
    return {p.stem: p for p in folder.glob("*.mp4")}


def test_each_local_shot_is_kept_once(series: Path, tmp_path: Path) -> None:
    rendered(series, "-o", tmp_path / "out")
    cached = videos(series)
    assert len(cached) == 2
    local = list((series / ".storyboard" / "local").glob("local-*.mp4"))
    assert len(local) == 2
    for video in local:
        [twin] = [c for h, c in cached.items() if h[:16] in video.name]
        assert video.stat().st_ino == twin.stat().st_ino  # one file, two names
    from storyboard.run.state.housekeeping import usage
    seen: dict[int, int] = {}
    for path in (series / ".storyboard").rglob("*"):
        if path.is_file():
            seen[path.stat().st_ino] = path.stat().st_size
    assert sum(row.bytes for row in usage(series)) == sum(seen.values())
    shown = invoke("cache", series)
    assert shown.exit_code == 0, shown.output
    assert "shots" in shown.stdout and "total" in shown.stdout


def locked_hashes(series: Path) -> dict[str, str]:
    shots = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    return {entry["id"]: entry["hash"] for entry in shots.values()}


def age(folder: Path, days: float) -> None:
    import os
    import time
    then = time.time() - days * 86400
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def test_cache_prune_never_touches_what_a_lock_a_shot_or_a_task_needs(
        series: Path, tmp_path: Path) -> None:
    import sqlite3
    out = tmp_path / "out"
    rendered(series, "-o", out)
    old = locked_hashes(series)["b"]
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text().replace('"@mia smiles"', '"@mia laughs"'))
    rendered(series, "-o", out)
    now = set(locked_hashes(series).values())
    assert set(videos(series)) == now | {old}
    flying = locked_hashes(series)["b"]  # made "in flight" below, as if its task were unfinished
    state = series / ".storyboard"
    age(state, 40)
    pruned = invoke("cache", "prune", series, "--older-than", "30d")
    assert pruned.exit_code == 0, pruned.output
    assert set(videos(series)) == now  # the superseded version went; the current ones stay
    assert not list(state.rglob(f"*{old[:16]}*"))
    assert (state / "journal.sqlite").is_file() and (series / "storyboard.lock").is_file()

    lock = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))
    yaml.write_text(yaml.read_text().replace('"@mia laughs"', '"@mia nods"'))
    lock["shots"] = {k: v for k, v in lock["shots"].items() if v["hash"] != flying}
    (series / "storyboard.lock").write_text(json.dumps(lock))
    with sqlite3.connect(state / "journal.sqlite") as db:
        db.execute("UPDATE attempts SET state = 'submitted' WHERE shot_hash = ?", (flying,))
    age(state, 40)
    squeezed = invoke("cache", "prune", series, "--max-size", "1")
    assert squeezed.exit_code == 1, squeezed.output  # the target cannot be reached: said so
    assert "still" in squeezed.stderr and "in flight" in squeezed.stderr
    assert flying in videos(series)  # in flight: kept, local or not
    assert not list((state / "stitch-cache").rglob("*.mp4"))  # mezzanines are made again for free
    for refused in ("lots", "nan", "-1", "inf", "9" * 400):
        assert invoke("cache", "prune", series, "--max-size", refused).exit_code == 2
    assert invoke("cache", "prune", series, "--older-than", "9" * 400 + "d").exit_code == 2


def test_cache_prune_refuses_a_state_folder_linked_outside(series: Path, tmp_path: Path) -> None:
    rendered(series, "-o", tmp_path / "out")
    cache = series / ".storyboard" / "cache"
    outside = tmp_path / "elsewhere"
    cache.rename(outside)
    cache.symlink_to(outside, target_is_directory=True)
    kept = sorted(p for p in outside.rglob("*") if p.is_file())
    age(series / ".storyboard", 400)
    age(outside, 400)
    pruned = invoke("cache", "prune", series, "--older-than", "1d")
    assert pruned.exit_code != 0 and "link" in pruned.output.lower()
    assert sorted(p for p in outside.rglob("*") if p.is_file()) == kept and kept


def blob(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(size))
    return path


PAID = "dashscope-wan2.2-t2v"


def paid_state(series: Path) -> dict[str, Path]:
    """A rendered series plus paid-looking shots: one the lock names, one a task in flight needs,
    one nothing needs; and plenty of state that is made again for free."""
    import sqlite3
    state = series / ".storyboard"
    lock = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))
    entry = next(iter(lock["shots"].values()))
    hashes = {name: f"{n}{n}" * 32 for n, name in zip("abc", ("locked", "flying", "old"), strict=True)}
    lock["shots"]["paid"] = {**entry, "id": "paid", "hash": hashes["locked"]}
    (series / "storyboard.lock").write_text(json.dumps(lock), encoding="utf-8")
    with sqlite3.connect(state / "journal.sqlite") as db:
        db.execute("UPDATE attempts SET state = 'submitted', shot_hash = ? WHERE id = "
                   "(SELECT MIN(id) FROM attempts)", (hashes["flying"],))
    shots = {name: blob(state / "cache" / PAID / f"{h}.mp4", 300_000) for name, h in hashes.items()}
    for h in hashes.values():
        (state / "cache" / PAID / f"{h}.json").write_text("{}", encoding="utf-8")
    for n in range(6):
        stem = state / "stitch-cache" / "mezzanine" / f"{n:032x}"
        blob(stem.with_suffix(".mp4"), 200_000)
        blob(stem.with_suffix(".wv"), 150_000)
        blob(stem.parent / f"{stem.name}.p0.w12.n4800.128k.adts", 20_000)
        (stem.with_suffix(".json")).write_text("{}", encoding="utf-8")
    blob(state / "frames" / f"{PAID}-{hashes['locked']}-last.png", 100_000)
    blob(state / "thumbs" / f"{'d' * 64}.jpg", 100_000)
    blob(state / "cards" / f"{'e' * 32}.mp4", 100_000)
    age(state, 1)
    return shots


def sizes(series: Path) -> dict[str, int]:
    from storyboard.run.state.housekeeping import usage
    return {row.kind: row.bytes for row in usage(series)}


def test_cache_names_every_kind_of_state(series: Path, tmp_path: Path) -> None:
    rendered(series, "-o", tmp_path / "out")
    paid_state(series)
    kinds = sizes(series)
    assert "other" not in kinds, kinds
    for kind in ("stitch cache: mezzanine video", "stitch cache: mezzanine sound",
                 "stitch cache: clip sound encodes", "stitch cache: clip facts", "last frames",
                 "stitch cache: clip loudness",
                 "contact-sheet stills", "title and end cards", "input snapshots", "journal",
                 "locks", "media facts", f"shots ({PAID})"):
        assert kind in kinds, (kind, kinds)
    assert any(k.startswith("shots (local-") for k in kinds), kinds
    shown = invoke("cache", series)
    assert shown.exit_code == 0 and "stitch cache: mezzanine sound" in shown.stdout
    assert "other" not in shown.stdout


def test_cache_prune_reaches_its_size_removing_what_is_free_first(
        series: Path, tmp_path: Path) -> None:
    rendered(series, "-o", tmp_path / "out")
    shots = paid_state(series)
    before = sizes(series)
    inputs = sorted((series / ".storyboard" / "inputs").rglob("*"))
    assert inputs  # the series' references, snapshotted when its shots were submitted
    free = sum(b for k, b in before.items()
               if k.startswith("stitch cache") or k in ("last frames", "contact-sheet stills",
                                                        "title and end cards", "compile cache"))
    target = sum(before.values()) - free + 1000  # reached by removing the free state alone
    pruned = invoke("cache", "prune", series, "--max-size", str(target))
    assert pruned.exit_code == 0, pruned.output + pruned.stderr
    assert sum(sizes(series).values()) <= target
    assert all(path.is_file() for path in shots.values())  # paid shots untouched...
    assert list((series / ".storyboard" / "local").iterdir())  # ...local renders too
    assert not (series / ".storyboard" / "thumbs").exists() or not list(
        (series / ".storyboard" / "thumbs").iterdir())

    protected = shots["locked"].stat().st_size + shots["flying"].stat().st_size
    squeezed = invoke("cache", "prune", series, "--max-size", str(protected))
    assert squeezed.exit_code == 1, squeezed.output  # the journal and the lock must stay too
    assert "a lock, the series as it is now or a task in flight" in squeezed.stderr
    assert shots["locked"].is_file() and shots["flying"].is_file()
    assert (shots["locked"].with_suffix(".json")).is_file()
    assert not shots["old"].exists()  # paid, but nothing needs it: it went last
    assert not list((series / ".storyboard" / "local").iterdir())  # drawn again for free
    assert (series / ".storyboard" / "journal.sqlite").is_file()
    assert (series / "storyboard.lock").is_file()
    assert sorted((series / ".storyboard" / "inputs").rglob("*")) == inputs


def mezzanines(series: Path) -> tuple[Path, Path]:
    """Two cached mezzanines (video, sound, record), both 40 days old."""
    folder = series / ".storyboard" / "stitch-cache" / "mezzanine"
    used, unused = folder / ("1" * 32), folder / ("2" * 32)
    for stem in (used, unused):
        blob(stem.with_suffix(".mp4"), 1000)
        blob(stem.with_suffix(".wv"), 1000)
        stem.with_suffix(".json").write_text("{}", encoding="utf-8")
    age(series / ".storyboard", 40)
    return used, unused


HOLD = """\
import sys, time
from pathlib import Path
from storyboard.stitch.using import using
with using(Path(sys.argv[1])):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_a_mezzanine_a_running_stitch_may_be_reading_keeps_its_sound(tmp_path: Path) -> None:
    import os

    from storyboard.run.state.housekeeping import IN_USE, prune
    series = tmp_path / "s"
    used, unused = mezzanines(series)
    os.utime(used.with_suffix(".json"))  # a stitch (the studio's, a sheet's) read it just now
    stitching = subprocess.Popen([sys.executable, "-c", HOLD, str(used.parent.parent)],
                                 stdout=subprocess.PIPE, text=True)
    try:
        assert stitching.stdout is not None and stitching.stdout.readline() == "holding\n"
        report = prune(series, set(), max_size=0)
    finally:
        stitching.kill()
        stitching.wait()
    assert used.with_suffix(".wv").is_file() and used.with_suffix(".mp4").is_file()
    assert not unused.with_suffix(".wv").exists() and not unused.with_suffix(".mp4").exists()
    assert report.kept[IN_USE] == 2 * 1000 + len("{}")  # its video, record and sound


def test_with_no_stitch_running_a_file_used_just_now_is_pruned_and_a_dead_hold_goes(
        tmp_path: Path) -> None:
    import os

    from storyboard.run.state.housekeeping import IN_USE, kind_of, prune
    series = tmp_path / "s"
    used, _ = mezzanines(series)
    os.utime(used.with_suffix(".json"))  # the render that just ended read it
    dead = used.parent.parent / f".using-{dead_pid()}-1.lock"  # a stitch killed mid-way
    dead.write_text("", encoding="utf-8")
    assert kind_of(("stitch-cache", dead.name)) == "locks"
    report = prune(series, set(), max_size=0)
    assert IN_USE not in report.kept
    assert not used.with_suffix(".wv").exists() and not used.with_suffix(".mp4").exists()
    assert report.freed == 4 * 1000 + 2 * len("{}")
    assert not dead.exists()


def test_cache_prune_right_after_a_render_frees_the_stitch_cache(
        series: Path, tmp_path: Path) -> None:
    rendered(series, "-o", tmp_path / "out")
    before = sizes(series)
    assert before["stitch cache: mezzanine video"] > 0
    assert "stitch cache: mezzanine sound" not in before  # a render's stitch keeps no sound
    pruned = invoke("cache", "prune", series, "--max-size", "0")
    assert "a stitch running now" not in pruned.output
    after = sizes(series)
    assert not any(kind.startswith("stitch cache") for kind in after), after
    assert not list((series / ".storyboard" / "stitch-cache").glob(".using-*"))


def test_cache_names_the_providers_records_and_prune_keeps_them(series: Path) -> None:
    state = series / ".storyboard"
    records = {"designed voices' previews and samples (DashScope)": blob(
                   state / "dashscope" / "voices" / "voice-1.wav", 300),
               "spoken lines' answers (DashScope)": blob(
                   state / "dashscope" / "speech" / "task-1.json", 40),
               "ComfyUI jobs sent": blob(state / "comfyui" / "jobs" / "p-1.json", 50),
               "ComfyUI throughput": blob(state / "comfyui" / "throughput.json", 20)}
    age(state, 400)
    kinds = sizes(series)
    assert "other" not in kinds, kinds
    for kind, path in records.items():
        assert kinds[kind] == path.stat().st_size, (kind, kinds)
    shown = invoke("cache", series)
    assert "DashScope" in shown.stdout and "other" not in shown.stdout
    invoke("cache", "prune", series, "--max-size", "0", "--older-than", "1d")
    assert all(path.is_file() for path in records.values())


def test_a_gateway_s_picture_tasks_and_portraits_are_named_and_never_pruned(
        tmp_path: Path) -> None:
    """``.storyboard/<gateway>/pictures/`` (each board's picture task and the URL it gave) and
    ``portraits/`` (the asset library's portraits made): named, never "other", and kept by
    ``prune`` as every provider's record of paid work is."""
    from storyboard.dialects.images import IMAGE_WIRES
    from storyboard.run.state.housekeeping import kind_of, prune
    from storyboard.targets.cast.arkassets import LIBRARIES
    series = tmp_path / "s"
    records = [series / ".storyboard" / name / "pictures" / "t1.json" for name in IMAGE_WIRES]
    records += [series / ".storyboard" / name / "portraits" / "a1.json" for name in LIBRARIES]
    for record in records:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text('{"url": "https://example.invalid/p.png"}', encoding="utf-8")
    kinds = {kind_of(record.relative_to(series / ".storyboard").parts) for record in records}
    assert "other" not in kinds and "picture tasks asked (ark)" in kinds, kinds
    assert "portraits made (modelark)" in kinds and len(kinds) == len(records)
    prune(series, set(), max_size=0)
    assert all(record.is_file() for record in records)
