"""A picked take carries into the shots that start from its last frame (issue 34.2).

``reply`` starts from ``ballad``'s last frame; picking ``ballad``'s take 2 changes ``reply``'s
input: ``pick`` says so and prices it, ``plan`` shows it changed, and the next render pays for
``reply`` once, from take 2's last frame (its lock entry names take 2's hash).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.boards import planned, rows
from tests.fixtures.boards import write as write_boards
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

FOLLOW = """\
- id: ep01
  shots:
    - {id: ballad, prompt: "@mia sings", takes: 2}
    - {id: reply, prompt: "@sam answers", first_frame: {from: ballad}}
"""


def lock_of(series: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((series / "storyboard.lock").read_text("utf-8"))
    return data


def from_hash(series: Path) -> str:
    entry = lock_of(series)["shots"]["carry/ep01/reply"]
    found = [m["from_hash"] for m in entry["media"].values() if "from_hash" in m]
    assert len(found) == 1
    return str(found[0])


def test_picking_a_take_re_renders_the_shots_that_start_from_it(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    emu = emulator()
    series = write_series(tmp_path / "carry", make_media, FOLLOW, head=HEAD)
    code, _, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == 3  # ballad's two takes, reply
    shots = lock_of(series)["shots"]
    assert from_hash(series) == shots["carry/ep01/ballad"]["hash"]

    picked = invoke("pick", series, "ep01/ballad", "2")
    assert picked.exit_code == 0, picked.output
    assert "ep01/reply start(s) from its last frame" in picked.output
    assert "from take 2" in picked.output and "USD" in picked.output

    plan = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    status = {s["key"]: (s["status"], s["cost"]) for s in plan["shots"]}
    assert status["carry/ep01/reply"][0] == "changed" and status["carry/ep01/reply"][1] > 0
    assert status["carry/ep01/ballad#2"] == ("cached", 0.0)

    code, _, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == 4  # reply again, once
    assert from_hash(series) == shots["carry/ep01/ballad#2"]["hash"]
    code, _, err = render(series, "--yes")
    assert code == 0 and submissions(emu) == 4  # and never again


TWO = """\
- id: ep01
  shots:
    - {id: ballad, prompt: "@mia sings"}
    - {id: other, prompt: "@sam plays @guitar"}
"""


def test_a_retake_renders_exactly_the_takes_asked_and_exits_by_them(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    emu = emulator()
    series = write_series(tmp_path / "carry", make_media, TWO, head=HEAD)
    drafted = invoke("render", series, "--draft", "--provider", "local")
    assert drafted.exit_code == 0, drafted.output  # free drafts of everything
    assert submissions(emu) == 0

    result = invoke("retake", series, "ep01/ballad", "-n", "2", "--provider", "dashscope",
                    "--yes", "--json")
    assert submissions(emu) == 2  # the two takes asked for, not take 1 again
    report = json.loads(result.stdout)
    assert sorted(s["key"] for s in report["shots"]) == ["carry/ep01/ballad#2",
                                                         "carry/ep01/ballad#3"]
    assert result.exit_code == 0, result.output  # the takes were made
    assert "episode ep01 was not stitched" in result.stderr  # said apart: `other` is a draft
    assert "not stitched: not stitched" not in result.stderr  # said once
    assert "episode ep01 was not stitched: shot(s) other not rendered" in result.stderr

    again = invoke("retake", series, "ep01/ballad", "-n", "1", "--provider", "dashscope",
                   "--yes", "--json")
    assert again.exit_code == 0 and submissions(emu) == 3


def test_a_free_retake_does_not_change_what_a_paid_plan_buys(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    series = write_series(tmp_path / "carry", make_media, TWO, head=HEAD)
    before = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    free = invoke("retake", series, "ep01/ballad", "-n", "2", "--provider", "local", "--json")
    assert free.exit_code == 0, free.output
    drafted = json.loads(free.stdout)
    assert sorted(s["key"] for s in drafted["shots"]) == ["carry/ep01/ballad#2",
                                                          "carry/ep01/ballad#3"]
    after = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    assert [s["key"] for s in after["shots"]] == [s["key"] for s in before["shots"]]
    assert after["total_cost"] == before["total_cost"]
    local = json.loads(invoke("plan", series, "--provider", "local", "--json").stdout)
    assert {"carry/ep01/ballad#2", "carry/ep01/ballad#3"} <= {s["key"] for s in local["shots"]}


ONE = """\
- id: ep01
  shots:
    - {id: ballad, prompt: "@mia sings", takes: 2}
"""


def test_takes_and_status_agree_on_a_shots_takes_and_what_they_cost(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one table row a line, to read them
    emulator()
    series = write_series(tmp_path / "carry", make_media, ONE, head=HEAD)
    assert invoke("render", series, "--draft", "--provider", "local").exit_code == 0
    assert render(series, "--yes")[0] == 0
    assert invoke("pick", series, "ep01/ballad", "2").exit_code == 0
    costs = {e["cost"] for e in lock_of(series)["shots"].values()}
    total = f"{sum(e['cost'] for e in lock_of(series)['shots'].values()):.2f} USD"

    takes = invoke("takes", series, "ep01/ballad").output
    lines = [line for line in takes.splitlines() if line.split()[:1] == ["1"]]
    assert len(lines) == 2 and any("local (draft)" in x for x in lines) \
        and any("dashscope" in x for x in lines)  # take 1 twice: each says who rendered it
    assert all(f"{c:.2f} USD" in takes for c in costs)
    assert f"spent in all: {total} on 2 paid task(s)" in takes

    for flags in ((), ("--all",)):
        status = invoke("status", series, *flags).output
        take_two = [line for line in status.splitlines() if "ballad#2" in line]
        assert take_two and "picked" in take_two[0] and "older" not in take_two[0], status
        assert f"spent in all: {total} on 2 paid task(s)" in status


def test_status_shows_a_task_id_with_terminal_escapes_escaped() -> None:
    import dataclasses

    from rich.console import Console

    from storyboard.review.progress import safe_id, status_table
    from storyboard.run.state.tasks.journal import Attempt
    hostile = "task\x1b[2J\x07"
    values: dict[str, Any] = {f.name: None for f in dataclasses.fields(Attempt)}
    values.update(id=1, series="s", episode="ep01", shot="a", shot_hash="h", provider="x",
                  cache_key="x", state="submitted", task_id=hostile, intent_at=0.0,
                  updated_at=0.0)
    console = Console(record=True, width=200, force_terminal=False)
    console.print(status_table([Attempt(**values)]))
    text = console.export_text()
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert safe_id("abc-123") == "abc-123" and safe_id(None) == ""


# --- issue 45.1: a pick reaches every shot chained from a shot it changes ---------------------

CHAIN = """\
storyboard: 1
title: Chain
defaults: {{resolution: 720P, ratio: "16:9", duration: 2}}
provider: {{name: {provider}, poll: [0.2]}}
output: {{loudness: null}}
characters:
  ada: {{image: {{generate: "a young engineer with brass goggles", takes: 2}}}}
episodes:
  - id: ep01
    shots:
      - {{id: a, prompt: "@ada waves", takes: {takes}}}
      - {{id: b, first_frame: {{from: a}}, prompt: "@ada turns to the door"}}
      - {{id: c, model: wan2.7-i2v, first_frame: {{from: a}}, prompt: "the door opens"}}
      - {{id: d, model: wan2.7-i2v, first_frame: {{from: c}}, prompt: "wind in the hall"}}
"""
CHAINED = ["ep01/a", "ep01/b", "ep01/c", "ep01/d"]


def write_chain(root: Path, provider: str, takes: int = 1) -> Path:
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(CHAIN.format(provider=provider, takes=takes), "utf-8")
    return root


def chain_lock(series: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((series / "storyboard.lock").read_text("utf-8"))
    return data


def chain_from(series: Path, shot: str) -> str:
    entry = chain_lock(series)["shots"][f"chain/ep01/{shot}"]
    found = [m["from_hash"] for m in entry["media"].values() if "from_hash" in m]
    assert len(found) == 1
    return str(found[0])


def statuses(series: Path, provider: str) -> dict[str, str]:
    result = invoke("plan", series, "--provider", provider, "--json")
    assert result.exit_code == 0, result.output
    return {s["key"].split("/", 1)[1]: s["status"] for s in json.loads(result.stdout)["shots"]}


def hashes(series: Path) -> dict[str, str]:
    result = invoke("compile", series)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return {f"{ep['id']}/{s['id']}": s["hash"] for ep in data["episodes"] for s in ep["shots"]}


def test_a_cast_pick_reaches_every_chained_shot_on_local(tmp_path: Path) -> None:
    series = write_chain(tmp_path / "chain", "local")
    rendered = invoke("render", series, "--yes", "--json")
    assert rendered.exit_code == 0, rendered.output
    before = hashes(series)
    manifest = invoke("compile", series).stdout
    picked = invoke("pick", series, "cast/ada", "2")
    assert picked.exit_code == 0, picked.output
    assert "ep01/a, ep01/b, ep01/c, ep01/d use(s) it" in picked.output

    status = statuses(series, "local")
    assert [status[s] for s in CHAINED] == ["changed"] * 4, status
    after = hashes(series)
    assert all(after[s] != before[s] for s in CHAINED)
    assert invoke("compile", series).stdout != manifest  # the manifest shows the pick
    a_alone = json.loads(invoke("compile", series, "--shot", "a").stdout)
    assert a_alone["episodes"][0]["shots"][0]["hash"] == after["ep01/a"]

    rendered = invoke("render", series, "--yes", "--json")
    assert rendered.exit_code == 0, rendered.output
    assert chain_from(series, "c") == after["ep01/a"] == chain_from(series, "b")
    assert chain_from(series, "d") == after["ep01/c"]
    assert set(statuses(series, "local").values()) == {"cached"}


def test_a_cast_pick_reaches_every_chained_shot_through_the_emulator(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    series = write_chain(tmp_path / "chain", "dashscope")
    code, _, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == 4
    images = emu.stats()["cast"]["images"]
    picked = invoke("pick", series, "cast/ada", "2")
    assert picked.exit_code == 0, picked.output

    status = statuses(series, "dashscope")
    assert [status[s] for s in CHAINED] == ["changed"] * 4, status
    assert status["cast/ada#2"] == "cached"
    code, _, err = render(series, "--yes")
    assert code == 0, err
    assert submissions(emu) == 8 and emu.stats()["cast"]["images"] == images  # each once
    assert chain_from(series, "c") == chain_lock(series)["shots"]["chain/ep01/a"]["hash"]
    code, _, err = render(series, "--yes")
    assert code == 0 and submissions(emu) == 8  # and never again



def test_a_cast_pick_prices_only_what_renders_again_and_names_what_waits_for_its_board(
        tmp_path: Path, emulator: Emulator, make_media: MakeMedia) -> None:
    """A shot whose video waits for its board after the pick (the board pictures the picked
    sheet, so its approval no longer holds) costs nothing until the board is approved: ``pick``
    prices what ``plan`` prices, and says which wait."""
    emulator()
    series = write_boards(tmp_path / "boards", make_media)
    assert render(series, "--yes", "boards")[0] == 0
    assert invoke("approve", series, "boards/ep01/hello").exit_code == 0
    assert invoke("retake", series, "cast/mia", "--yes", "--quiet").exit_code == 0
    picked = invoke("pick", series, "cast/mia", "2")
    assert picked.exit_code == 0, picked.output
    plan = planned(series)
    assert rows(plan)["ep01/hello"]["status"] == "waits", rows(plan)["ep01/hello"]
    said = " ".join(picked.stdout.split())
    assert f"they render again with this take (about {plan['total_cost']:.2f} USD" in said, said
    assert (f"ep01/hello also uses it and waits (board not approved): nothing is sent or paid "
            f"until its board is approved: storyboard approve {series} boards/ep01/hello") in said


def test_a_shot_pick_reaches_down_a_chain_of_from(tmp_path: Path) -> None:
    series = write_chain(tmp_path / "chain", "local", takes=2)
    rendered = invoke("render", series, "--yes", "--json")
    assert rendered.exit_code == 0, rendered.output
    before = hashes(series)
    picked = invoke("pick", series, "ep01/a", "2")
    assert picked.exit_code == 0, picked.output
    assert "ep01/b, ep01/c, ep01/d start(s) from its last frame" in picked.output
    status = statuses(series, "local")
    assert status["ep01/a"] == "cached"
    assert [status[s] for s in CHAINED[1:]] == ["changed"] * 3, status
    assert hashes(series)["ep01/d"] != before["ep01/d"]
