"""``storyboard check --json`` and ``--format github`` through the real CLI (issue 35.3)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.cli.diagnostics import annotation, record
from storyboard.errors import Diagnostic, Span

SERIES = """\
storyboard: 1
title: Formats
defaults: {resolution: 720P, ratio: "16:9"}
characters:
  ada: {image: ada.png}
  bob: {image: ada.png}
episodes:
  - id: ep01
    shots:
      - id: one
        takes: 2.0
        prompt: "@ada waves"
      - id: two
        model: wan3.0-video
        negative_prompt: blurry
        prompt: "@ada smiles"
"""


def storyboard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "storyboard", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture()
def broken(tmp_path: Path, make_media: Callable[..., Path]) -> Path:
    make_media("image", tmp_path / "s" / "ada.png", width=320, height=320)
    (tmp_path / "s" / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return tmp_path


EXPECTED = [  # (line, column, severity, code, a part of the message)
    (6, 3, "warning", None, "character 'bob' is never used"),
    (11, 16, "error", "schema-type", "without the decimal point (2)"),
    (15, 26, "error", "model-switch", "wan3.0-video takes no negative prompt"),
]


@pytest.mark.parametrize("flag", [["--json"], ["--format", "json"]])
def test_json_lists_every_problem_with_a_stable_code(broken: Path, flag: list[str]) -> None:
    done = storyboard("check", "s", *flag, cwd=broken)
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)
    assert [set(item) for item in found] == [
        {"file", "line", "column", "severity", "code", "message"}] * len(found)
    assert len(found) == len(EXPECTED)
    for item, (line, col, severity, code, text) in zip(found, EXPECTED, strict=True):
        assert item["file"] == "s/storyboard.yaml"
        assert (item["line"], item["column"], item["severity"]) == (line, col, severity)
        assert text in item["message"]
        assert item["code"] == code if code else item["code"].startswith("form-")
    again = json.loads(storyboard("check", "s", "--json", cwd=broken).stdout)
    assert [i["code"] for i in again] == [i["code"] for i in found]  # stable from run to run


def test_github_prints_one_annotation_per_problem(broken: Path) -> None:
    done = storyboard("check", "s", "--format", "github", cwd=broken)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == len(EXPECTED)
    assert lines[1].startswith("::error file=s/storyboard.yaml,line=11,col=16,title=schema-type::")
    assert lines[0].startswith("::warning file=s/storyboard.yaml,line=6,col=3,title=form-")
    assert lines[2].endswith("remove negative_prompt for this model")


def test_a_clean_series_is_an_empty_list_and_exit_0(broken: Path) -> None:
    text = SERIES.replace("takes: 2.0", "takes: 2").replace("        negative_prompt: blurry\n",
                                                            "").replace("  bob: {image: ada.png}\n", "")
    (broken / "s" / "storyboard.yaml").write_text(text, encoding="utf-8")
    done = storyboard("check", "s", "--json", cwd=broken)
    assert (done.returncode, json.loads(done.stdout)) == (0, [])
    assert storyboard("check", "s", "--format", "github", cwd=broken).stdout.strip() == ""


def test_an_error_without_a_place_has_null_coordinates(broken: Path) -> None:
    (broken / "empty").mkdir()
    done = storyboard("check", "empty", "--json", cwd=broken)
    found = json.loads(done.stdout)
    assert done.returncode == 2  # not a series: a usage error, as without --json
    assert found and found[0]["file"] is None
    assert found[0]["line"] is None and found[0]["code"] == "error"


def test_annotations_escape_what_the_workflow_commands_read() -> None:
    said = Diagnostic(Span("a,b:c.yaml", 3, 4), "50% done\nnext line", "warning",
                      code="x")
    assert annotation(said) == "::warning file=a%2Cb%3Ac.yaml,line=3,col=4,title=x::50%25 " \
                               "done%0Anext line"
    masked = record(Diagnostic(None, "see https://id:secret@host/x"))
    assert "secret" not in masked["message"] and masked["code"].startswith("form-")


# Issue 83, item 11: one exit code per cause, with or without --json

MATRIX = """\
storyboard: 1
title: "Ad {{ lang }}"
defaults: {resolution: 720P, ratio: "16:9"}
vars: {lang: en}
variations:
  matrix: {lang: [en, es]}
  name: "ad-{{ lang }}"
characters:
  ada: {image: ada.png}
episodes:
  - id: ep01
    shots:
      - {id: one, prompt: "@ada holds a cup of coffee"}
"""


@pytest.mark.parametrize(("args", "code"), [
    (("check", "nosuch"), 2),  # a PATH that is not a series: a usage error
    (("check", "ad", "--variation", "nosuch"), 2),  # a --variation that names none
    (("check", "ad", "--var", "nokeyvalue"), 2),  # a --var that is not KEY=VALUE
    (("check", "s"), 1),  # errors in the series
    (("check", "ad"), 0),
])
def test_each_cause_has_one_exit_code_with_or_without_json(
        broken: Path, make_media: Callable[..., Path], args: tuple[str, ...], code: int) -> None:
    make_media("image", broken / "ad" / "ada.png", width=320, height=320)
    (broken / "ad" / "storyboard.yaml").write_text(MATRIX, encoding="utf-8")
    codes = {mode: storyboard(*args, *mode, cwd=broken).returncode
             for mode in ((), ("--json",), ("--format", "json"), ("--format", "github"))}
    assert set(codes.values()) == {code}, codes
