"""``takes`` after a free local draft and a paid render of the same take: the paid take's row
names its own file, and the draft's file is said as a free draft, never as the take
(issue 97, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

ONE = """\
- id: ep01
  shots:
    - {id: ballad, prompt: "@mia sings"}
"""


def test_the_paid_take_is_listed_with_its_own_file_and_the_draft_as_a_draft(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    emulator()
    series = write_series(tmp_path / "carry", make_media, ONE, head=HEAD)
    assert invoke("render", series, "--draft", "--provider", "local").exit_code == 0
    assert render(series, "--yes")[0] == 0
    rows = {r["provider"]: r for r in json.loads(invoke("takes", series, "ep01/ballad",
                                                        "--json").stdout)}
    assert set(rows) == {"local (draft)", "dashscope"}
    paid, draft = rows["dashscope"]["file"], rows["local (draft)"]["file"]
    assert paid is not None and paid.startswith(".storyboard/cache/dashscope/"), paid
    assert (series / paid).is_file() and draft is not None and paid != draft
    lines = invoke("takes", series, "ep01/ballad").stdout.splitlines()
    assert f"take 1: {series / paid}" in lines
    assert f"take 1 (local (draft), free): {series / draft}" in lines
    assert f"take 1: {series / draft}" not in lines  # the draft is never said as the take
