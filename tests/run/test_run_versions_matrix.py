"""A matrix's language axis takes the version route when its base's shots are approved (issue
68, item 7): the ``es`` variation of an approved ``en`` base is made as its Spanish version (its
lines spoken, its on-screen speakers re-lipped over the approved takes, stitched into the
variation's own folder): 0 video renders; ``plan`` prices it as a version beside a re-render;
before the base is approved it is rendered as any variation (never made from an unapproved cut)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dashscope_cli import Emulator, invoke, submissions
from tests.run.test_run_versions_version import EP01, EP02, SERIES, SHOTS, MakeMedia, counts, run

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

MATRIX = SERIES.replace("output: {loudness: null}\n", "output: {loudness: null}\n"
                        "variations:\n  matrix: {language: [en, es]}\n")


def _series(root: Path, make_media: MakeMedia) -> Path:
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    make_media("image", root / "media" / "old.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(MATRIX, encoding="utf-8")
    return root


def _plan(root: Path) -> dict[str, Any]:
    result = invoke("plan", root, "--provider", "dashscope", "--json")
    assert result.exit_code == 0, result.stderr + result.stdout
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_language_variation_of_an_approved_base_is_made_as_its_version(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "dubbed", make_media)
    # not approved yet: both variations are rendered, as any variation
    before = _plan(root)
    assert before["versions"] == [] and {v["name"] for v in before["variations"]} == {"en", "es"}
    code, _, said = run("render", root, "--provider", "dashscope", "--yes", "--json",
                        "--variation", "en")
    assert code == 0, said
    for shot in SHOTS:
        code, _, said = run("approve", root, f"en/{shot}", "--force")
        assert code == 0, said
    folder = root / "languages" / "es"
    folder.mkdir(parents=True)
    (folder / "ep01.yaml").write_text(EP01, encoding="utf-8")
    (folder / "ep02.yaml").write_text(EP02, encoding="utf-8")
    # approved: `plan` prices es as the version of en, beside what rendering it again costs, in
    # the one run of its plan (the version priced by that run's prices, no run of its own)
    from storyboard.run import setup
    opened: list[object] = []
    with monkeypatch.context() as patched:
        store = setup.open_store
        patched.setattr(setup, "open_store", lambda *a, **k: opened.append(a) or store(*a, **k))
        planned = _plan(root)
    assert len(opened) == 1
    assert [v["name"] for v in planned["variations"]] == ["en"]
    version = planned["versions"][0]
    assert (version["name"], version["base"], version["language"]) == ("es", "en", "es")
    assert version["lines"] == 3 and version["passes"] == 2
    assert 0 < version["cost"] < version["rerender_cost"], version
    text = invoke("plan", root, "--provider", "dashscope")
    assert "es: the es version of en (its shots approved), no video rendered again" \
        in text.stdout, text.stdout + text.stderr
    speech, passes, submitted = counts(server)
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert counts(server)[0] - speech == 3  # each line once, in its speaker's designed voice
    assert counts(server)[1] - passes == 2  # a pass over each on-screen speaker's approved take
    assert submissions(server) - submitted == 2  # the two passes: 0 video renders
    assert report["submits"] == 3 + 2, report["submits"]  # the version's lines and passes counted
    made = report["versions"][0]
    assert made["variation"] == "dubbed/es" and sorted(made["passes"]) == ["ep01/hello",
                                                                          "ep02/bye"]
    lines = [s["key"] for s in made["shots"]]  # made in en's run: each once, its costs spent
    assert len(lines) == len(set(lines)) == 2 + 3 + 2, lines  # the voices, lines and passes
    keys = [s["key"] for s in report["shots"]]
    assert len(keys) == len(set(keys)) and set(lines) <= set(keys), keys
    assert round(sum(s["cost"] for s in report["shots"]), 6) == report["spent"] > 0
    for episode in ("ep01", "ep02"):  # in the variation's own folder, Spanish subtitles beside
        assert (root / "out" / "es" / f"{episode}.mp4").is_file()
    assert "Por nosotros" in (root / "out" / "es" / "ep01.srt").read_text("utf-8")
    lock = json.loads((root / "storyboard.lock").read_text("utf-8"))
    assert lock["shots"]["dubbed/es/ep01/hello"]["parameters"]["model"] == "videoretalk"
    # run again: nothing is paid twice, the passes are kept as the variation's (never pruned)
    submitted = submissions(server)
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert submissions(server) == submitted and report["spent"] == 0
    assert "dubbed/es/ep01/hello" in json.loads((root / "storyboard.lock").read_text("utf-8"))[
        "shots"]
    shown = invoke("render", root, "--provider", "dashscope", "--yes")
    assert shown.exit_code == 0 and submissions(server) == submitted
    assert "es (variation es): 3 line(s), 2 lip-sync pass(es); spent 0.0000" in shown.stdout, \
        shown.stdout + shown.stderr


def test_translate_writes_the_version_of_the_matrixs_base(
        tmp_path: Path, make_media: MakeMedia) -> None:
    root = _series(tmp_path / "dubbed", make_media)
    result = invoke("translate", root, "--language", "es", "--no-model")
    assert result.exit_code == 0, result.stderr + result.stdout
    written = (root / "languages" / "es" / "ep01.yaml").read_text("utf-8")
    assert 'source: "To us, and to the shop."' in written and 'episode: "ep01"' in written
    flat = root / "storyboard.yaml"  # a matrix with no base in the original language: refused
    flat.write_text(MATRIX.replace("{language: [en, es]}", "{mood: [calm, loud]}"), "utf-8")
    result = invoke("translate", root, "--language", "es", "--no-model")
    assert result.exit_code == 1 and "has no es variation that differs from a base " \
        "variation only by its language" in result.stderr + result.stdout
