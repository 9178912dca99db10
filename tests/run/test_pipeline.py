"""One render pipeline: a matrix is rendered as a series is, and a render's state is read once.

Every flag of ``render`` works on a matrix as on a plain series (``--shot`` with variation ids,
``--replace-approved``), approved shots are protected in a matrix, and one render reads the lock
once and opens the ledger once; a studio save plans once. The DashScope client talks to the
emulator on loopback, whose counters say what was submitted.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from storyboard.run.state.lock import lockfile
from storyboard.run.team import ledger as ledger_module
from tests.fixtures.variations_run import HEAD, make

MakeMedia = Callable[..., Path]
KEY = "sk-pipeline-secret"
PAID = HEAD.replace("provider: {poll: [0.05]}", "provider: {name: dashscope, poll: [0.05]}")


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output and KEY not in result.output
    return result


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.05, plain_results=True)
    server.start()
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    yield server
    server.stop()


@pytest.fixture
def ad(tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "1")
    return make(tmp_path / "ad", make_media, PAID)


def submits(emulator: EmulatorServer) -> int:
    return int(emulator.stats()["submissions"]["total"])


def edit(series: Path, old: str, new: str) -> None:
    path = series / "storyboard.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_approved_shot_in_a_matrix_is_protected(ad: Path, emulator: EmulatorServer) -> None:
    assert invoke("render", ad, "--yes").exit_code == 0
    assert submits(emulator) == 4
    approved = invoke("approve", ad, "latte-en/ad/pitch")
    assert approved.exit_code == 0, approved.output
    edit(ad, "@{{ product }} in {{ lang }}", "@{{ product }} poured in {{ lang }}")

    refused = invoke("render", ad, "--yes")
    assert refused.exit_code != 0
    assert "approved shot(s) changed" in refused.output and "latte-en" in refused.output
    assert submits(emulator) == 4  # nothing was submitted for any variation

    replaced = invoke("render", ad, "--yes", "--replace-approved", "--json")
    assert replaced.exit_code == 0, replaced.output
    assert submits(emulator) == 7  # the three variations' pitch, each its own
    takes = json.loads((ad / "storyboard.lock").read_text(encoding="utf-8")).get("takes", {})
    assert "approved" not in takes.get("ad/latte-en/ad/pitch", {})  # its approval was lifted


def test_a_take_command_on_a_matrix_needs_the_variation(ad: Path) -> None:
    result = invoke("approve", ad, "ad/pitch")
    assert result.exit_code != 0
    assert "VARIATION/EPISODE/SHOT" in result.output and "espresso-en" in result.output


def test_shot_renders_that_shot_in_every_variation_that_has_it(ad: Path,
                                                              emulator: EmulatorServer) -> None:
    assert invoke("render", ad, "--yes").exit_code == 0
    edit(ad, "@cup spins", "@cup spins slowly")
    edit(ad, "@{{ product }} in {{ lang }}", "@{{ product }} steams in {{ lang }}")

    hook = json.loads(invoke("render", ad, "--yes", "--json", "ad/hook").stdout)
    assert submits(emulator) == 5  # the hook is one shot shared by the three variations
    rendered = {s["key"] for s in hook["shots"]}
    assert rendered == {f"ad/{v}/ad/hook" for v in ("espresso-en", "espresso-es", "latte-en")}

    one = json.loads(invoke("render", ad, "--yes", "--json", "latte-en/ad/pitch").stdout)
    assert submits(emulator) == 6
    assert {s["key"] for s in one["shots"]} == {"ad/latte-en/ad/pitch"}
    assert [v["name"] for v in one["variations"] if v["episodes"]] == ["latte-en"]

    unknown = invoke("render", ad, "--yes", "ad/nope")
    assert unknown.exit_code != 0 and "no shot 'ad/nope'" in unknown.output
    assert submits(emulator) == 6


def _count(monkeypatch: pytest.MonkeyPatch, name: str, calls: Counter[str],
           key: Callable[..., str]) -> None:
    """Count every call of the function ``name`` as any storyboard module imported it."""
    original = getattr(lockfile if name == "read_lock" else ledger_module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[key(*args, **kwargs)] += 1
        return original(*args, **kwargs)
    for module in list(sys.modules.values()):
        if (module is not None and module.__name__.startswith("storyboard.")
                and module is not lockfile and getattr(module, name, None) is original):
            monkeypatch.setattr(module, name, counted)


def test_one_render_reads_the_lock_once_and_opens_the_ledger_once(
        ad: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import storyboard.run.pipeline  # noqa: F401  (every module a render uses, imported)
    reads: Counter[str] = Counter()
    opens: Counter[str] = Counter()
    _count(monkeypatch, "read_lock", reads, lambda path: Path(path).name)
    _count(monkeypatch, "default_ledger", opens, lambda *a, **k: "ledger")
    assert invoke("render", ad, "--yes").exit_code == 0
    # one read to plan and render (writes re-read under the run lock), one after it to judge
    # the people in its takes (an episode's takes for the grade, the approved boards' faces)
    assert reads == Counter({"storyboard.lock": 2}), reads
    assert opens == Counter({"ledger": 1}), opens


def test_a_studio_save_plans_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.review.studio.state import Studio
    plan_module = importlib.import_module("storyboard.run.plans")
    from tests.fixtures.drafts import make_series
    series = tmp_path / "series"
    make_series(series)
    plans: Counter[str] = Counter()
    original = plan_module.plan

    def counted(*args: Any, **kwargs: Any) -> Any:
        plans["plan"] += 1
        return original(*args, **kwargs)
    monkeypatch.setattr(plan_module, "plan", counted)
    state = Studio(series)
    state.refresh()  # the first look: a page at once, then the draft
    episode = series / "episodes" / "01.yaml"
    episode.write_text(episode.read_text(encoding="utf-8").replace("take 1", "take one"),
                       encoding="utf-8")
    plans.clear()
    state.refresh()  # a save: check, draft, page
    assert state.snapshot.phase == "draft", state.snapshot.problems
    assert plans["plan"] == 1
