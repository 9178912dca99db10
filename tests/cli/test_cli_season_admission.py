"""A season admitted all or nothing through the command line, on DashScope's emulator: one refused
shot in episode 3 creates zero tasks and is listed with its episode and line; fixed, the season is
rendered with one consent; ``--episodes 2-3`` admits only those; ``--episode-budget`` refuses an
episode over it and holds each episode's run to it; two renders at once pay each shot once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.media import samples
from tests.fixtures.dashscope_cli import (
    Emulator,
    child_env,
    command,
    invoke,
    season_render,
    submissions,
    wait_until,
)
from tests.fixtures.patience import LOADED

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2]}
characters:
  ada: {image: media/ada.png}
  bob: {image: {generate: "a tall man in a grey coat, plain studio light"}}
episodes:
  - {id: ep01, shots: [{id: a, prompt: "@ada answers"}]}
  - {id: ep02, shots: [{id: a, prompt: "@ada meets @bob"}]}
  - id: ep03
    shots:
      - {id: a, prompt: "@ada runs"}
      - {id: b, prompt: "@ada runs away", duration: 40}
"""
LINES = SERIES.splitlines()
REFUSED_LINE = next(n for n, line in enumerate(LINES, 1) if "duration: 40" in line)  # over 15 s
EP03_LINE = next(n for n, line in enumerate(LINES, 1) if "id: ep03" in line)
FIXED = SERIES.replace("duration: 40", "duration: 3")


def season(tmp_path: Path, text: str = SERIES) -> Path:
    series = tmp_path / "night"
    samples.image(series / "media" / "ada.png", 320, 320)
    (series / "storyboard.yaml").write_text(text, encoding="utf-8")
    return series


def paid_once_each(emu: EmulatorServer, series: Path, videos: int) -> None:
    """bob's picture made once, each video submitted once, nothing else (the lock holds them)."""
    stats, cast = emu.stats()["submissions"], emu.stats()["cast"]
    lock = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    assert len(lock) == videos + 1
    assert (stats["total"], stats["duplicates"]) == (videos, 0), stats
    assert (cast["images"], cast["requests"]["image"]) == (1, 1), cast


def plan_json(series: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = invoke("plan", series, "--provider", "dashscope", "--season", "--json", *args)
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_one_refused_shot_creates_zero_tasks_and_is_listed_by_episode_and_line(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    series = season(tmp_path)
    code, shown, err = plan_json(series)
    assert code == 1 and not shown["admitted"]
    [problem] = shown["problems"]
    assert (problem["episode"], problem["number"], problem["line"]) == ("ep03", 3, REFUSED_LINE)
    assert problem["file"].endswith("storyboard.yaml") and "a 40 s shot" in problem["message"]
    assert [e["problems"] for e in shown["episodes"]][:2] == [[], []]

    code, refused, err = season_render(series, "--yes")  # --json: the admission's own
    assert code == 1 and not refused["admitted"] and refused["problems"] == shown["problems"]
    code, _, err = season_render(series, "--yes", "--quiet")
    assert code == 1
    assert submissions(emu) == 0  # zero tasks: not the cast, not episodes 1 and 2
    assert not any(emu.stats()["tasks"].values())
    assert "the season is refused: 1 problem(s); nothing was submitted" in err
    assert f"episode 3 (ep03):\n  {problem['file']}:{REFUSED_LINE}:" in err
    assert not (series / "storyboard.lock").exists()

    (series / "storyboard.yaml").write_text(FIXED, encoding="utf-8")
    code, shown, _ = plan_json(series)
    assert code == 0 and shown["admitted"]
    gated = invoke("plan", series, "--provider", "dashscope", "--season", "--max-cost", "0.5")
    assert gated.exit_code == 1 and "more than --max-cost 0.50" in gated.stderr
    rows = {e["id"]: e for e in shown["episodes"]}
    assert [rows[e]["shots"] for e in ("ep01", "ep02", "ep03")] == [1, 1, 2]
    assert shown["totals"]["cast"] > 0  # bob's picture: the season's, no episode's
    assert shown["totals"]["price"] == pytest.approx(
        shown["totals"]["cast"] + sum(r["price"] for r in rows.values()))
    code, report, err = season_render(series, "--yes")
    assert code == 0, err
    assert {e["id"]: e["state"] for e in report["episodes"]} == dict.fromkeys(rows, "stitched")
    paid_once_each(emu, series, 4)  # bob's picture and the four videos, each once


def test_without_consent_nothing_is_submitted(tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    series = season(tmp_path, FIXED)
    code, _, err = season_render(series)  # CI: no terminal to ask
    assert code == 1 and "nothing was submitted" in err
    code, _, err = season_render(series, "--episode-budget", "5")
    assert code == 1 and "nothing was submitted" in err
    code, _, err = season_render(series, "--budget", "0.5")  # under the season's total
    assert code == 1
    assert "the season:\n  error: the season costs about" in err and "--budget 0.50" in err
    assert submissions(emu) == 0


def test_a_range_of_episodes_is_admitted_alone(tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    series = season(tmp_path, FIXED)
    code, shown, _ = plan_json(series, "--episodes", "2-3")
    assert code == 0
    assert [(e["number"], e["id"]) for e in shown["episodes"]] == [(2, "ep02"), (3, "ep03")]
    code, report, err = season_render(series, "--episodes", "2-3", "--yes")
    assert code == 0, err
    assert sorted(e["id"] for e in report["episodes"]) == ["ep02", "ep03"]
    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"]
    assert not any("/ep01/" in key for key in lock)
    paid_once_each(emu, series, 3)  # bob (ep02 uses him) and three videos


def test_an_episode_over_its_budget_refuses_the_season(tmp_path: Path,
                                                       emulator: Emulator) -> None:
    emu = emulator()
    series = season(tmp_path, FIXED)
    code, shown, _ = plan_json(series, "--episode-budget", "0.3")
    assert code == 1
    over = [(p["episode"], p["line"]) for p in shown["problems"]]
    assert over == [("ep03", EP03_LINE)]  # ep03 (0.50) over it, at its line; ep01 and ep02 within
    assert "more than --episode-budget 0.30" in shown["problems"][0]["message"]
    code, _, err = season_render(series, "--episode-budget", "0.3", "--yes")
    assert code == 1 and "episode 3 (ep03):" in err
    assert submissions(emu) == 0


def test_each_episode_runs_under_its_budget_with_one_consent(tmp_path: Path,
                                                             emulator: Emulator) -> None:
    emu = emulator()
    series = season(tmp_path, FIXED)
    code, report, err = season_render(series, "--episode-budget", "0.5", "--yes")
    assert code == 0, err
    assert sorted(e["id"] for e in report["episodes"]) == ["ep01", "ep02", "ep03"]
    assert len(report["shots"]) == 5 and report["spent"] > 0
    paid_once_each(emu, series, 4)
    code, report, err = season_render(series, "--episode-budget", "0.5", "--yes")
    assert code == 0, err
    paid_once_each(emu, series, 4)  # all cached: nothing paid again


def test_two_season_renders_at_once_pay_each_shot_once(tmp_path: Path,
                                                       emulator: Emulator) -> None:
    emu = emulator(latency=2.0)
    series = season(tmp_path, FIXED)
    out = tmp_path / "out"
    child = subprocess.Popen(command(series, "--yes", "--quiet", "-o", str(out),
                                     words=("season", "render")),
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until("a submit", lambda: submissions(emu) >= 1, child)
        second = invoke("season", "render", series, "--provider", "dashscope", "--yes",
                        "--quiet", "-o", str(out))
        _, err = child.communicate(timeout=LOADED)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=LOADED)
    assert child.returncode == 0, err.decode(errors="replace")[-2000:]
    assert second.exit_code == 1  # admitted, then the runner's lock: never a second payment
    assert "another storyboard render is running" in second.stderr
    again = invoke("season", "render", series, "--provider", "dashscope", "--yes", "--quiet",
                   "-o", str(out))
    assert again.exit_code == 0, again.stderr
    paid_once_each(emu, series, 4)


def test_the_runner_holds_each_episode_to_its_budget(tmp_path: Path, emulator: Emulator) -> None:
    """Priced at 0 by the series, the season is admitted under any budget; the runner counts
    each task at no less than the list price, and each episode's run stops at its budget."""
    emu = emulator()
    series = season(tmp_path, FIXED.replace("poll: [0.2]}", "poll: [0.2], prices: {720P: 0}}"))
    code, shown, _ = plan_json(series, "--episode-budget", "0.3")
    assert code == 0 and [e["price"] for e in shown["episodes"]] == [0, 0, 0]
    code, report, _ = season_render(series, "--episode-budget", "0.3", "--yes")
    assert code == 1  # a shot left out by a budget
    states = {s["key"].split("/", 1)[1]: s for s in report["shots"]}
    assert [states[k]["state"] for k in ("ep01/a", "ep02/a", "ep03/a")] == ["done"] * 3
    assert states["ep03/b"]["state"] == "skipped"  # 0.20 + 0.30 at list prices: over 0.30
    assert "the budget of 0.30" in states["ep03/b"]["message"]
    assert submissions(emu) == 3


def test_every_problem_of_every_kind_is_listed_at_once(tmp_path: Path,
                                                       emulator: Emulator) -> None:
    """An approved shot changed in episode 1, and episode 3 (its shot b now 5 s: 0.50) over its
    budget: a render stops at the first; the season's admission lists both, by episode, and
    submits nothing."""
    emu = emulator()
    series = season(tmp_path, FIXED)
    assert season_render(series, "--yes")[0] == 0
    assert invoke("approve", series, "ep01/a").exit_code == 0
    text = FIXED.replace("@ada answers", "@ada answers the phone")
    (series / "storyboard.yaml").write_text(text.replace("duration: 3", "duration: 5"),
                                            encoding="utf-8")
    before = submissions(emu)
    code, shown, _ = plan_json(series, "--episode-budget", "0.4")
    assert code == 1
    found = [(p["number"], p["episode"], p["message"].split(" ")[0]) for p in shown["problems"]]
    assert found == [(1, "ep01", "ep01/a"), (3, "ep03", "ep03")]
    assert "was approved (take 1) and its YAML changed" in shown["problems"][0]["message"]
    code, _, err = season_render(series, "--episode-budget", "0.4", "--yes")
    assert code == 1 and "refused: 2 problem(s)" in err
    assert err.index("episode 1 (ep01):") < err.index("episode 3 (ep03):")
    assert submissions(emu) == before


@pytest.mark.parametrize(("args", "said"), [
    (("plan", "--episode-budget", "1"), "--episode-budget goes with --season"),
    (("plan", "--episodes", "1-2"), "--episodes goes with --season"),
])
def test_a_season_takes_whole_episodes(tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    series = season(tmp_path, FIXED)
    result = invoke(args[0], series, *args[1:])
    assert result.exit_code == 2 and said in result.stderr
    assert not (series / ".storyboard" / "journal.sqlite").exists()


def test_a_missing_key_is_the_seasons_problem(tmp_path: Path, emulator: Emulator,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator()
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    series = season(tmp_path, FIXED.replace("duration: 3", "duration: 40"))
    code, shown, _ = plan_json(series)
    assert code == 1  # the language's error (it is not priced): the key cannot be looked for
    (series / "storyboard.yaml").write_text(FIXED, encoding="utf-8")
    code, shown, _ = plan_json(series)
    assert code == 1
    [problem] = shown["problems"]
    assert problem["episode"] is None and "DASHSCOPE_API_KEY is not set" in problem["message"]
    code, _, err = season_render(series, "--yes")
    assert code == 1 and "the season:\n  error: [dashscope] MissingApiKey: DASHSCOPE_API_KEY" in err
    assert submissions(emu) == 0


def test_a_shot_waiting_on_its_board_is_counted_not_refused(tmp_path: Path,
                                                            emulator: Emulator) -> None:
    emu = emulator()
    series = season(tmp_path, FIXED.replace("characters:", "boards: {model: wan2.7-image}\n"
                                                           "characters:"))
    code, shown, _ = plan_json(series)
    assert code == 0 and shown["admitted"]
    assert [e["waiting_on_boards"] for e in shown["episodes"]] == [1, 1, 2]
    assert shown["totals"]["waiting_on_boards"] == 4
    text = invoke("plan", series, "--provider", "dashscope", "--season").stdout
    assert "4 shot(s) wait on their boards, unpaid until approved" in text
    code, report, err = season_render(series, "--yes")
    assert code == 0, err  # the boards made, the videos wait: waiting is not failing
    assert submissions(emu) == 0  # no video sent
    assert {e["state"] for e in report["episodes"]} == {"waits"}


def test_a_free_season_needs_no_consent(tmp_path: Path) -> None:
    """On ``local`` nothing is paid: per-episode runs go on without ``--yes`` in CI."""
    series = season(tmp_path, FIXED)
    done = invoke("season", "render", series, "--provider", "local", "--episode-budget", "1",
                  "--draft", "--json")
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert sorted(e["id"] for e in report["episodes"]) == ["ep01", "ep02", "ep03"]
    assert {s["state"] for s in report["shots"]} == {"done"}
