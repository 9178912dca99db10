"""Plan and render across variations: shared shots paid once, one budget, one folder per variation.

The local provider renders drafts through the real command line; the DashScope client talks to the
emulator on loopback, whose counters say what was submitted: a shot shared by several variations is
submitted once for the whole matrix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from storyboard.media import ffmpeg
from tests.fixtures.ffmpeg_runs import nothing_remembered
from tests.fixtures.variations_run import HEAD, MakeMedia, make

KEY = "sk-variations-secret"

VARIATIONS = ["espresso-en", "espresso-es", "latte-en"]


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output
    assert KEY not in result.output
    return result


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def as_json(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def ad(tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "1")
    return make(tmp_path / "ad", make_media)


def test_plan_per_variation_and_in_all(ad: Path) -> None:
    result = invoke("plan", ad, "--provider", "dashscope", "--json")
    assert result.exit_code == 0, result.output
    plan = as_json(result)
    rows = {v["name"]: v for v in plan["variations"]}
    assert list(rows) == VARIATIONS
    assert plan["shots"] == 6 and plan["distinct_shots"] == 4  # one hook for all three
    for row in rows.values():
        assert row["shots"] == 2 and row["cached"] == 0
        assert row["shared"] == 1 and row["own"] == 1
        assert row["alone_cost"] == pytest.approx(2 * row["own_cost"])
    per_shot = rows["latte-en"]["own_cost"]
    assert per_shot > 0
    assert plan["total_cost"] == pytest.approx(4 * per_shot)  # not 6: the hook is paid once
    table = invoke("plan", ad, "--provider", "dashscope")
    assert "3 variation(s), 4 distinct shot(s)" in table.output and "latte-en" in table.output


def test_render_writes_one_folder_per_variation_and_the_lock(ad: Path) -> None:
    """Drafts, as for a plain series: episodes under ``<series>/out/draft/<variation>/``, their
    record in ``.storyboard/draft.lock``; the committed ``storyboard.lock`` is never written."""
    result = invoke("render", ad, "--draft", "--json")
    assert result.exit_code == 0, result.output
    report = as_json(result)
    assert report["ok"] and report["distinct_shots"] == 4 and report["submits"] == 4
    assert [(v["name"], v["state"]) for v in report["variations"]] == [
        (name, "ok") for name in VARIATIONS]
    for name in VARIATIONS:
        episode = ad / "out" / "draft" / name / "ad.mp4"
        assert episode.is_file(), episode
        assert ffmpeg.stream_lengths(episode)["video"] == pytest.approx(5, abs=0.2)
        assert not (ad / "out" / name).exists()  # a finished episode's folder
    assert not (ad / "storyboard.lock").exists()
    draft_lock = ad / ".storyboard" / "draft.lock"
    lock = json.loads(draft_lock.read_text(encoding="utf-8"))["shots"]
    assert sorted(lock) == sorted(f"ad/{n}/ad/{s}" for n in VARIATIONS for s in ("hook", "pitch"))
    assert len({e["hash"] for e in lock.values()}) == 4
    assert lock["ad/latte-en/ad/hook"]["hash"] == lock["ad/espresso-es/ad/hook"]["hash"]
    before = draft_lock.read_bytes()

    again = as_json(invoke("render", ad, "--draft", "--json"))
    assert again["submits"] == 0
    assert all(v["shots"] == {"cached": 2} for v in again["variations"])
    assert all(e["state"] == "up to date" for v in again["variations"] for e in v["episodes"])
    assert draft_lock.read_bytes() == before  # deterministic

    one = as_json(invoke("render", ad, "--draft", "--json", "--variation", "latte-*"))
    assert [v["name"] for v in one["variations"]] == ["latte-en"]
    assert draft_lock.read_bytes() == before  # the others' entries are kept
    assert not (ad / "storyboard.lock").exists()

    moved = as_json(invoke("render", ad, "--draft", "--json", "--variation", "latte-*",
                           "-o", "elsewhere"))
    assert moved["submits"] == 0 and moved["variations"][0]["state"] == "ok"
    assert (Path("elsewhere") / "draft" / "latte-en" / "ad.mp4").is_file()  # -o DIR: DIR/draft/


def test_a_variations_folder_linked_outside_is_never_written_through(ad: Path,
                                                                    tmp_path: Path) -> None:
    """``out/draft/latte-en`` a link to a folder outside the series: the render stops naming
    it before any shot is made, and nothing is written where it points."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ad / "out" / "draft").mkdir(parents=True)
    (ad / "out" / "draft" / "latte-en").symlink_to(elsewhere, target_is_directory=True)
    result = invoke("render", ad, "--draft", "--json")
    assert result.exit_code != 0, result.output
    assert f"{ad / 'out' / 'draft' / 'latte-en'} is a link (to {elsewhere})" in result.output
    assert list(elsewhere.iterdir()) == [] and not (ad / "out" / "draft" / "espresso-en").exists()


def test_a_failing_variation_does_not_stop_the_others(tmp_path: Path, make_media: MakeMedia,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    broken = HEAD.replace('"@{{ product }} in {{ lang }}"',
                          '"@{{ product }} says {{ {\'en\': \'hi\'}[lang] }}"')
    root = make(tmp_path / "ad", make_media, broken)
    check = invoke("check", root)
    assert check.exit_code == 1
    assert "has no attribute 'es'" in check.output and "[in variation(s) espresso-es]" in check.output
    result = invoke("render", root, "--draft", "--json")
    assert result.exit_code == 1
    report = as_json(result)
    states = {v["name"]: v["state"] for v in report["variations"]}
    assert states == {"espresso-en": "ok", "latte-en": "ok", "espresso-es": "invalid"}
    problems = next(v["problems"] for v in report["variations"] if v["name"] == "espresso-es")
    assert any("storyboard.yaml:20:" in p and "has no attribute 'es'" in p for p in problems)
    assert (root / "out" / "draft" / "latte-en" / "ad.mp4").is_file()
    assert not (root / "out" / "draft" / "espresso-es").exists()
    quiet = invoke("render", root, "--draft", "--quiet")  # only the failure, and why
    assert quiet.exit_code == 1 and quiet.stdout == ""
    lines = quiet.stderr.strip().splitlines()
    assert lines[0].startswith("espresso-es: invalid") and "latte-en" not in quiet.stderr
    assert any("storyboard.yaml:20:" in line and "has no attribute 'es'" in line
               for line in lines[1:])


def test_a_series_with_vars_but_no_matrix_keeps_its_layout(tmp_path: Path, make_media: MakeMedia,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.chdir(tmp_path)
    plain = "\n".join(line for line in HEAD.splitlines()
                      if not line.startswith(("variations:", "  matrix:", "  exclude:",
                                              "  name:"))) + "\n"
    root = make(tmp_path / "plain", make_media, plain.replace("{{ lang }}", "en")
                .replace("vars: {product: espresso}", "vars: {product: espresso, lang: en}"))
    result = invoke("render", root, "--draft", "--json", "--set", "vars.product=latte")
    assert result.exit_code == 0, result.output
    report = as_json(result)
    assert sorted(s["key"] for s in report["shots"]) == ["plain/ad/hook", "plain/ad/pitch"]
    assert (root / "out" / "draft" / "ad.mp4").is_file()  # a draft, as for any series
    assert not (root / "storyboard.lock").exists()
    lock = json.loads((root / ".storyboard" / "draft.lock").read_text(encoding="utf-8"))
    assert sorted(lock["shots"]) == ["plain/ad/hook", "plain/ad/pitch"]
    assert lock["shots"]["plain/ad/pitch"]["series"] == "plain"


# --- DashScope (the emulator): a shared shot is paid once for the whole matrix ---------------------


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    server = EmulatorServer(latency=0.2, plain_results=True, retry_after=0.1).start()
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    yield server
    server.stop()


def test_a_shared_shot_is_submitted_once_for_the_matrix(ad: Path,
                                                        emulator: EmulatorServer) -> None:
    text = (ad / "storyboard.yaml").read_text(encoding="utf-8")
    (ad / "storyboard.yaml").write_text(text.replace("provider: {poll: [0.05]}",
                                                     "provider: {name: dashscope, poll: [0.2]}"))
    result = invoke("render", ad, "--yes", "--json")
    assert result.exit_code == 0, result.output
    report = as_json(result)
    stats = emulator.stats()["submissions"]
    assert stats["total"] == 4 and stats["duplicates"] == 0, stats
    assert stats["by_prompt"][_digest("Image 1 spins")] == 1  # the hook of all three
    assert report["submits"] == 4
    lock = json.loads((ad / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    hooks = {lock[f"ad/{n}/ad/hook"]["task_id"] for n in VARIATIONS}
    assert len(hooks) == 1  # the three variations' hook is one task
    assert report["spent"] == pytest.approx(sum(
        e["cost"] for k, e in lock.items() if not k.endswith("hook") or "espresso-en" in k))

    again = as_json(invoke("render", ad, "--yes", "--json"))
    assert again["submits"] == 0 and emulator.stats()["submissions"]["total"] == 4


def test_the_budget_covers_the_whole_run(ad: Path, emulator: EmulatorServer) -> None:
    plan = as_json(invoke("plan", ad, "--provider", "dashscope", "--json"))
    one_shot = plan["variations"][0]["own_cost"]
    result = invoke("render", ad, "--provider", "dashscope", "--json",
                    "--budget", f"{one_shot * 2.5:.4f}")
    report = as_json(result)
    assert result.exit_code == 1
    assert report["spent"] <= one_shot * 2.5 + 1e-9
    assert emulator.stats()["submissions"]["total"] == 2  # two of the four distinct shots
    assert not report["ok"]


def test_a_provider_axis_plans_and_runs_each_provider(ad: Path, emulator: EmulatorServer) -> None:
    text = (ad / "storyboard.yaml").read_text(encoding="utf-8")
    text = text.replace("lang: [en, es]}", "lang: [en], provider: [local, dashscope]}")
    text = text.replace('name: "{{ product }}-{{ lang }}"', 'name: "{{ product }}-{{ provider }}"')
    (ad / "storyboard.yaml").write_text(text.replace("exclude: [{product: latte, lang: es}]",
                                                     "exclude: [{product: latte, provider: local}]"))
    plan = as_json(invoke("plan", ad, "--json"))
    assert [g["provider"] for g in plan["groups"]] == ["local", "dashscope"]
    assert [v["name"] for v in plan["groups"][1]["variations"]] == ["espresso-dashscope",
                                                                    "latte-dashscope"]
    assert plan["groups"][0]["total_cost"] == 0 and plan["groups"][1]["total_cost"] > 0
    result = invoke("render", ad, "--yes", "--json", "--draft")
    assert result.exit_code == 1 and "--draft renders animatics" in result.output
    report = as_json(invoke("render", ad, "--yes", "--json"))
    assert report["ok"] and report["providers"] == ["local", "dashscope"]
    assert emulator.stats()["submissions"]["total"] == 3  # hook + two pitches, for dashscope
    assert {v["name"]: v["state"] for v in report["variations"]} == {
        "espresso-local": "ok", "espresso-dashscope": "ok", "latte-dashscope": "ok"}
    bad = text.replace("provider: [local, dashscope]", "provider: [local, dashscop]")
    (ad / "storyboard.yaml").write_text(bad)
    check = invoke("check", ad)
    assert check.exit_code == 1
    assert "storyboard.yaml:8:62: error: matrix value 'dashscop' for 'provider': expected one of " \
           "local, comfyui, dashscope" in check.output


# Two groups of one provider: the first's series prices understate its shots (planned at 0.00,
# billed 0.40 at the list price), the second's are the list's (0.40).
GROUPS = """\
storyboard: 1
title: "Ad"
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
variations:
  matrix: {provider: [{name: dashscope, prices: {720P: 0}}, {name: dashscope, poll: [0.3]}]}
  name: "{{ 'cheap' if provider.prices is defined else 'list' }}"
characters:
  cup: {image: media/cup.png}
episodes:
  - id: ad
    shots:
      - {id: hook, prompt: "@cup spins {{ 'fast' if provider.prices is defined else 'slowly' }}"}
      - {id: pitch, prompt: "@cup shines {{ 'now' if provider.prices is defined else 'later' }}"}
"""


def test_a_group_over_its_plan_leaves_the_next_what_the_budget_counted(
        ad: Path, emulator: EmulatorServer) -> None:
    """Planned at 0.40 in all, rendered under --budget 0.40: the first group's shots are billed
    0.40, so the second has nothing left; 0.40 is spent, not 0.80."""
    (ad / "storyboard.yaml").write_text(GROUPS, encoding="utf-8")
    plan = as_json(invoke("plan", ad, "--provider", "dashscope", "--json"))
    assert [g["total_cost"] for g in plan["groups"]] == pytest.approx([0, 0.4])
    report = as_json(invoke("render", ad, "--provider", "dashscope", "--json",
                            "--budget", "0.4"))
    states = {v["name"]: v["shots"] for v in report["variations"]}
    assert states == {"cheap": {"done": 2}, "list": {"skipped": 2}}, report["variations"]
    assert emulator.stats()["submissions"]["total"] == 2  # 0.40 at the list price: --budget


def test_a_matrix_is_shared_through_the_store(ad: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A teammate's fresh clone of a matrix takes every shot from the shared store (issue 12):
    the plan says so and nothing is rendered again."""
    import shutil
    monkeypatch.setenv("STORYBOARD_STORE", str(tmp_path / "team-store"))
    first = invoke("render", ad, "--json")
    assert first.exit_code == 0, first.output
    assert as_json(first)["submits"] == 4
    bob = tmp_path / "bob" / "ad"
    shutil.copytree(ad, bob, ignore=shutil.ignore_patterns(".storyboard"))
    planned = as_json(invoke("plan", bob, "--json"))
    assert planned["total_cost"] == 0
    second = invoke("render", bob, "--json", "-o", tmp_path / "bob-out")
    assert second.exit_code == 0, second.output
    report = as_json(second)
    assert report["submits"] == 0
    assert {state for v in report["variations"] for state in v["shots"]} == {"cached"}
    assert all(v["state"] == "ok" for v in report["variations"])
    offline = invoke("plan", bob, "--offline", "--json")
    assert offline.exit_code == 0, offline.output


def test_a_matrix_prepares_its_mezzanines_as_the_shots_arrive(
        tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.chdir(tmp_path)
    text = HEAD.replace('"@{{ product }} in {{ lang }}"}',
                        '"@{{ product }} in {{ lang }}", '
                        'transition: {type: crossfade, duration: 0.5}}')
    root = make(tmp_path / "ad", make_media, text)
    where: list[tuple[str, str]] = []
    real = ffmpeg.run

    def spy(args: list[str], **kw: Any) -> str:
        where.append((kw.get("what", ""), threading.current_thread().name))
        return real(args, **kw)

    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", spy)
    assert invoke("render", root, "--draft").exit_code == 0
    preparing = [thread for what, thread in where
                 if what.startswith("preparing") and what.endswith("for the episode format")]
    # the hook, 3 pitches and 3 end cards (each differs per variation): each made once, all by
    # the thread that prepares them as they arrive, none while stitching
    assert len(preparing) == 7
    assert all(thread.startswith("storyboard-ahead") for thread in preparing), preparing
    # a render keeps no mezzanine sound (StitchOptions.keep_sound): a clip's sound is made, an
    # audio-only pass, only where an encode must read it (its own sound's AAC encode at the place a
    # variation puts it, a join's), at most once per clip per variation, and none is kept
    passes = [w for w, _ in where if w.startswith("preparing the sound of")]
    assert 0 < len(passes) <= 3 * 6
    assert not list((root / ".storyboard" / "stitch-cache").rglob("*.wv"))
    assert len([w for w, _ in where if w.startswith("blending")]) == 3  # one per variation
