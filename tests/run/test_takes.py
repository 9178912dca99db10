"""Takes end to end against the emulator: several candidates per shot, pick, approve, retake.

Every test counts what the emulator was paid for. The emulator draws a seeded request on a colour
of its seed's own, so takes of one shot differ byte for byte.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.media import ffmpeg
from storyboard.run import read_status
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import (
    HEAD,
    Emulator,
    MakeMedia,
    child_env,
    invoke,
    kill,
    no_key,
    render,
    submissions,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

TAKES = """\
- id: ep01
  shots:
    - {id: ballad, prompt: "@mia sings", takes: 3}
- id: ep02
  shots:
    - {id: solo, prompt: "@sam plays @guitar"}
"""

# The emulator draws still pictures: measuring finds each take frozen throughout, which is how it
# renders, not a flaw these tests are about (approve would otherwise ask for --force).
STILLS = HEAD + "checks: {freeze_seconds: 60}\n"


def lock_of(series: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((series / "storyboard.lock").read_text("utf-8"))
    return data


def cached(series: Path, entry: dict[str, Any]) -> Path:
    return series / ".storyboard" / "cache" / "dashscope" / f"{entry['hash']}.mp4"


def frames(path: Path) -> list[str]:
    """The md5 of each decoded video frame."""
    out = subprocess.run([ffmpeg.binary(), "-v", "error", "-i", str(path), "-map", "0:v:0",
                          "-f", "framemd5", "-"], capture_output=True, check=True).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.decode().splitlines()
            if line and not line.startswith("#")]


def middle_colour(path: Path) -> tuple[int, int, int]:
    """The average colour of the frame in the middle of the video's first second."""
    out = subprocess.run([ffmpeg.binary(), "-v", "error", "-ss", "0.5", "-i", str(path),
                          "-frames:v", "1", "-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True).stdout
    return out[0], out[1], out[2]


def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 6 for x, y in zip(a, b, strict=True))


def seeds(emu: EmulatorServer) -> list[int | None]:
    def read() -> list[int | None]:
        return [t.body.get("parameters", {}).get("seed")
                for t in emu.service.table.tasks.values()]
    found: list[int | None] = emu._on_loop(read)
    return found


@pytest.fixture
def takes(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "takes", make_media, TAKES, head=STILLS)


def test_a_shot_of_three_takes_is_three_paid_tasks_each_its_own(takes: Path,
                                                                emulator: Emulator) -> None:
    emu = emulator()
    code, _, err = render(takes, "--yes")
    assert code == 0, err
    assert submissions(emu) == 4  # 3 takes of ballad, 1 of solo
    shots = lock_of(takes)["shots"]
    assert sorted(shots) == ["takes/ep01/ballad", "takes/ep01/ballad#2", "takes/ep01/ballad#3",
                             "takes/ep02/solo"]
    assert "takes" not in lock_of(takes)  # nothing picked: no take state is written
    videos = {hashlib.sha256(cached(takes, e).read_bytes()).hexdigest()
              for k, e in shots.items() if "ballad" in k}
    assert len(videos) == 3, "the takes of one shot must differ"
    drawn = sorted(s for s in seeds(emu) if s is not None)
    assert len(drawn) == 2 and drawn == sorted({shots["takes/ep01/ballad#2"]["parameters"]["seed"],
                                                shots["takes/ep01/ballad#3"]["parameters"]["seed"]})
    # a re-render changes nothing and submits nothing
    before = (takes / "storyboard.lock").read_bytes()
    code, _, err = render(takes, "--yes")
    assert code == 0, err
    assert submissions(emu) == 4
    assert (takes / "storyboard.lock").read_bytes() == before


def test_pick_puts_take_2_into_the_episode_and_changes_only_the_pick_line(
        takes: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    out = tmp_path / "out"
    assert render(takes, "--yes", "-o", out)[0] == 0
    shots = lock_of(takes)["shots"]
    one, two = (cached(takes, shots[k]) for k in ("takes/ep01/ballad", "takes/ep01/ballad#2"))
    episode = out / "ep01.mp4"
    assert near(middle_colour(episode), middle_colour(one))  # default: the lowest take
    before = (takes / "storyboard.lock").read_text("utf-8").splitlines()

    result = invoke("pick", takes, "ep01/ballad", "2")
    assert result.exit_code == 0, result.output
    after = (takes / "storyboard.lock").read_text("utf-8").splitlines()
    changed = [line for line in difflib.ndiff(before, after) if line[:1] in "+-"]
    assert changed == ['-   "storyboard_lock": 1', '+   "storyboard_lock": 1,',
                       '+   "takes": {', '+     "takes/ep01/ballad": {', '+       "picked": 2',
                       '+     }', '+   }']

    code, _, err = render(takes, "--yes", "-o", out)
    assert code == 0, err
    assert submissions(emu) == 4  # nothing paid again
    assert near(middle_colour(episode), middle_colour(two))
    assert not near(middle_colour(two), middle_colour(one))
    assert len(frames(episode)) == len(frames(two))


def test_bad_picks_and_unknown_shots_are_clear_errors(takes: Path, emulator: Emulator) -> None:
    emulator()
    assert render(takes, "--yes")[0] == 0
    result = invoke("pick", takes, "ep01/ballad", "7")
    assert result.exit_code != 0 and "has no take 7; expected one of: 1, 2, 3" in result.output
    result = invoke("pick", takes, "ep01/balad", "2")
    assert result.exit_code != 0
    assert "no shot 'ep01/balad'" in result.output and "did you mean 'ep01/ballad'" in result.output
    result = invoke("approve", takes, "ep01/nope")
    assert result.exit_code != 0 and "no shot 'ep01/nope'" in result.output
    result = invoke("render", takes, "--provider", "dashscope", "ep03/*", "--yes")
    assert result.exit_code != 0 and "names no shot" in result.output


def test_pick_of_a_take_that_failed_is_refused_and_the_lowest_take_that_rendered_is_used(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    series = write_series(tmp_path / "takes", make_media, TAKES.split("- id: ep02")[0],
                          head=STILLS)
    result = invoke("approve", series, "ep01/ballad")
    assert result.exit_code != 0 and "no take that rendered" in result.output
    emu = emulator()
    emu.script("task:failed")  # the first task to finish fails
    out = tmp_path / "out"
    assert render(series, "--yes", "-o", out)[0] == 1
    failed = [a for a in read_status(series) if a.state == "failed"]
    assert len(failed) == 1
    number = int(failed[0].shot.partition("#")[2] or 1)
    result = invoke("pick", series, "ep01/ballad", str(number))
    assert result.exit_code != 0
    assert f"take {number} of ep01/ballad has not rendered" in result.output
    shots = lock_of(series)["shots"]
    lowest = min({1, 2, 3} - {number})
    video = cached(series, shots["takes/ep01/ballad" + (f"#{lowest}" if lowest > 1 else "")])
    assert near(middle_colour(out / "ep01.mp4"), middle_colour(video))
    result = invoke("approve", series, "ep01/ballad")  # nothing picked: the lowest that rendered
    assert result.exit_code == 0 and f"approved take {lowest}" in result.output
    assert lock_of(series)["takes"]["takes/ep01/ballad"]["approved"] == lowest


def test_retake_renders_exactly_the_takes_asked_for(takes: Path, emulator: Emulator,
                                                    tmp_path: Path) -> None:
    emu = emulator()
    out = tmp_path / "out"
    assert render(takes, "--yes", "-o", out)[0] == 0
    result = invoke("retake", takes, "ep02/solo", "-n", "1", "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    assert submissions(emu) == 5
    lock = lock_of(takes)
    assert "takes/ep02/solo#2" in lock["shots"]
    assert lock["takes"] == {"takes/ep02/solo": {"extra": 1,  # for the shot's request now
                                                 "extra_for": lock["shots"]["takes/ep02/solo"]["hash"]}}
    # the lock makes it reproducible: a plain render asks for nothing more
    assert render(takes, "--yes")[0] == 0
    assert submissions(emu) == 5
    rows = json.loads(invoke("takes", takes, "ep02/solo", "--json").stdout)
    assert [(r["take"], r["state"], r["current"]) for r in rows] == [
        (1, "done", True), (2, "done", True)]
    assert rows[1]["seed"] == lock["shots"]["takes/ep02/solo#2"]["parameters"]["seed"]


def test_render_shot_renders_only_that_shot(takes: Path, emulator: Emulator,
                                            tmp_path: Path) -> None:
    emu = emulator()
    out = tmp_path / "out"
    code, report, err = render(takes, "--yes", "ep02/*", "-o", out)
    assert code == 0, err
    assert submissions(emu) == 1
    assert [s["key"] for s in report["shots"]] == ["takes/ep02/solo"]
    assert [e["id"] for e in report["episodes"]] == ["ep02"]


def test_an_approved_shot_that_changed_is_not_rendered_without_replace(
        takes: Path, emulator: Emulator) -> None:
    emu = emulator()
    assert render(takes, "--yes")[0] == 0
    assert invoke("pick", takes, "ep01/ballad", "2").exit_code == 0
    result = invoke("approve", takes, "ep01/ballad")
    assert result.exit_code == 0 and "approved take 2" in result.output
    yaml = takes / "storyboard.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("@mia sings", "@mia sings softly"), "utf-8")
    plan = invoke("plan", takes, "--provider", "dashscope", "--json")
    rows = {s["key"]: s for s in json.loads(plan.stdout)["shots"]}
    assert rows["takes/ep01/ballad#2"]["status"] == "changed"
    assert "was approved (take 2)" in json.dumps(rows["takes/ep01/ballad#2"])
    text = invoke("plan", takes, "--provider", "dashscope").stdout
    assert "was approved (take 2)" in text
    code, _, err = render(takes, "--yes")
    assert code != 0 and "approved shot(s) changed" in err and "--replace-approved" in err
    assert submissions(emu) == 4
    approved = cached(takes, lock_of(takes)["shots"]["takes/ep01/ballad#2"])
    assert approved.is_file()  # the approved take stays in the cache
    code, _, err = render(takes, "--yes", "--replace-approved")
    assert code == 0, err
    assert submissions(emu) == 7
    assert approved.is_file()


def test_sigkill_during_a_retake_and_a_rerun_pays_once_per_take(
        takes: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator(latency=3.0)
    assert render(takes, "--yes")[0] == 0
    paid = submissions(emu)
    args = ["retake", str(takes), "ep01/ballad", "-n", "2", "--provider", "dashscope", "--yes",
            "--quiet"]
    child = subprocess.Popen([*_python(), *args], env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        wait_until("two submissions", lambda: submissions(emu) >= paid + 2, child)
    finally:
        kill(child)
    done = subprocess.run([*_python(), *args], env=child_env(), capture_output=True,
                          timeout=120, check=False)
    no_key(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert submissions(emu) == paid + 2  # takes 4 and 5, each paid once
    stats = emu.stats()["submissions"]
    assert stats["duplicates"] == 0, stats
    lock = lock_of(takes)
    assert lock["takes"] == {"takes/ep01/ballad": {
        "extra": 2, "extra_for": lock["shots"]["takes/ep01/ballad"]["hash"]}}
    assert {"takes/ep01/ballad#4", "takes/ep01/ballad#5"} <= set(lock["shots"])
    assert "takes/ep01/ballad#6" not in lock["shots"]
    rows = read_status(takes)
    assert sorted(a.shot for a in rows if a.state == "done") == [
        "ballad", "ballad#2", "ballad#3", "ballad#4", "ballad#5", "solo"]


def _python() -> list[str]:
    import sys
    return [sys.executable, "-m", "storyboard"]


def test_a_fresh_clone_with_the_store_renders_the_picked_take_for_free(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    head = HEAD.replace("output:", "store: ../../store\noutput:")
    alice = write_series(tmp_path / "alice" / "takes", make_media, TAKES, head=head)
    emu = emulator()
    assert render(alice, "--yes", "-o", tmp_path / "out-a")[0] == 0
    assert invoke("pick", alice, "ep01/ballad", "3").exit_code == 0
    paid = submissions(emu)
    assert paid == 4

    bob = tmp_path / "bob" / "takes"
    shutil.copytree(alice, bob, ignore=shutil.ignore_patterns(".storyboard"))
    code, _, err = render(bob, "--yes", "-o", tmp_path / "out-b")
    assert code == 0, err
    assert submissions(emu) == paid  # every take came from the store
    three = cached(alice, lock_of(alice)["shots"]["takes/ep01/ballad#3"])
    assert near(middle_colour(tmp_path / "out-b" / "ep01.mp4"), middle_colour(three))
    # bob paid for none of them, yet `takes` lists each with alice's task id
    rows = json.loads(invoke("takes", bob, "ep01/ballad", "--json").stdout)
    assert [(r["take"], r["marks"]) for r in rows] == [(1, ""), (2, ""), (3, "picked")]
    assert rows[2]["task_id"] == lock_of(alice)["shots"]["takes/ep01/ballad#3"]["task_id"]
    (bob / ".storyboard" / "journal.sqlite").unlink()  # a clone that never rendered: the lock
    rows = json.loads(invoke("takes", bob, "ep01/ballad", "--json").stdout)
    assert [(r["take"], r["state"], r["marks"]) for r in rows] == [
        (1, "in lock", ""), (2, "in lock", ""), (3, "in lock", "picked")]


def test_the_sheet_shows_the_takes_side_by_side_and_marks_the_pick(
        takes: Path, emulator: Emulator, tmp_path: Path) -> None:
    from storyboard.review.sheet import build_sheet
    emulator()
    assert render(takes, "--yes", "-o", tmp_path / "out")[0] == 0
    assert invoke("pick", takes, "ep01/ballad", "2").exit_code == 0
    result = build_sheet(takes, out=tmp_path / "sheet.html", provider="dashscope",
                         episodes_dir=tmp_path / "out", png_out=True)
    page = result.html.read_text("utf-8")
    assert page.count('<figure class="take') == 3 and page.count('class="take used"') == 1
    assert 'data-take="2"><img' in page and "take 2 · <b>picked</b>" in page
    assert "storyboard pick takes ep01/ballad 3" in page
    assert "storyboard pick takes ep01/ballad 2" not in page  # the used one needs no command
    assert page.count('class="takes"') == 1  # a shot of one take shows no strip
    assert result.png is not None and result.png.is_file()
    from storyboard.review.sheet.model import Panel
    from storyboard.review.sheet.pictures import png
    panel = Panel("shot", 1, "ballad", "a", "", "", 2.0, take=2, takes=(None,) * 3)  # type: ignore[arg-type]
    assert png.caption("ep01", panel) == "ep01 #1 ballad#2 · 2.00 s"


# --- the language ---------------------------------------------------------------------------------


def test_bad_takes_are_located_errors_and_say_the_cap(tmp_path: Path, make_media: MakeMedia
                                                      ) -> None:
    bad = """\
- id: ep01
  takes: 0
  shots:
    - {id: a, prompt: "@mia sings", takes: 100}
    - {id: b, prompt: "@mia sings", takes: "x"}
"""
    series = write_series(tmp_path / "bad", make_media, bad, head=HEAD)
    result = invoke("check", series)
    assert result.exit_code == 1
    yaml = series / "storyboard.yaml"
    lines = yaml.read_text("utf-8").splitlines()
    row = next(i for i, line in enumerate(lines, 1) if "takes: 0" in line)
    assert f"storyboard.yaml:{row}:" in result.output and "expected a number >= 1, got 0" in \
        result.output
    assert "expected a number <= 10, got 100" in result.output
    assert "expected a whole number, got 'x'" in result.output


def test_take_1_is_the_shot_as_before_and_later_takes_have_derived_seeds(
        tmp_path: Path, make_media: MakeMedia) -> None:
    from storyboard.language.compile import compile_path
    one = write_series(tmp_path / "one", make_media, TAKES.replace(", takes: 3", ""), head=HEAD)
    three = write_series(tmp_path / "three", make_media, TAKES, head=HEAD)
    seeded = write_series(tmp_path / "seeded", make_media,
                          TAKES.replace("takes: 3", "takes: 2, seed: 7"), head=HEAD)
    plain, taken = compile_path(one).shots()[0], compile_path(three).shots()[0]
    assert taken.hash == plain.hash and taken.id == plain.id and taken.take == 1
    assert taken.request.seed is None  # take 1 stays unseeded, as before takes existed
    assert [t.id for t in taken.all_takes()] == ["ballad", "ballad#2", "ballad#3"]
    seeds = [t.request.seed for t in taken.others]
    assert all(s is not None and 0 <= s <= 2147483647 for s in seeds)
    assert len({t.hash for t in taken.all_takes()}) == 3
    again = compile_path(three).shots()[0]
    assert [t.hash for t in again.all_takes()] == [t.hash for t in taken.all_takes()]
    first = compile_path(seeded).shots()[0]
    assert first.request.seed == 7 and first.others[0].request.seed != 7
    assert [s.shot_id for s in compile_path(three).takes()] == [
        "ep01/ballad", "ep01/ballad", "ep01/ballad", "ep02/solo"]


def test_plan_prices_every_take(takes: Path, emulator: Emulator) -> None:
    emu = emulator()  # the render below talks to loopback only
    result = invoke("plan", takes, "--provider", "dashscope", "--json")
    data = json.loads(result.stdout)
    costs = {s["key"]: s["cost"] for s in data["shots"]}
    assert list(costs) == ["takes/ep01/ballad", "takes/ep01/ballad#2", "takes/ep01/ballad#3",
                           "takes/ep02/solo"]
    ballad = [c for k, c in costs.items() if "ballad" in k]
    assert ballad[0] > 0 and ballad == [ballad[0]] * 3
    assert data["total_cost"] == pytest.approx(sum(costs.values()))
    refused = invoke("render", takes, "--provider", "dashscope",
                     "--budget", str(sum(ballad) - 0.001))
    assert refused.exit_code != 0
    assert submissions(emu) == 2  # the third take would pass the budget: never submitted


def test_the_takes_table_keeps_each_take_on_one_line_at_120_columns(
        takes: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids and times are never cut or wrapped (a task id stays whole, for grep)."""
    monkeypatch.setenv("COLUMNS", "120")
    emulator()
    assert render(takes, "--yes")[0] == 0
    assert invoke("pick", takes, "ep01/ballad", "2").exit_code == 0
    shown = invoke("takes", takes, "ep01/ballad").output
    rows = json.loads(invoke("takes", takes, "ep01/ballad", "--json").stdout)
    lines = shown.splitlines()
    table = [line for line in lines if not re.match(r"take \d+: ", line)]  # paths: whole
    assert all(len(line) <= 120 for line in table), shown
    assert [line for line in lines if line not in table] == [
        f"take {row['take']}: {takes / row['file']}" for row in rows]  # each take's own file
    for row in rows:
        (line,) = [line for line in lines if line.split()[:1] == [str(row["take"])]]
        assert row["task_id"] in line and "dashscope" in line, shown
    assert "picked" in next(line for line in lines if line.split()[:1] == ["2"])
