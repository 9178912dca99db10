from pathlib import Path
from typing import Any
import json
import pytest
from tests.fixtures.boards import planned, write, BOARDS, rows
from tests.fixtures.dashscope_cli import Emulator, invoke, render

pytestmark = pytest.mark.usefixtures("env")

@pytest.mark.parametrize("line", ["provider: {name: dashscope, poll: [0.2]}\n", ""])
def test_repro(tmp_path: Path, emulator: Emulator, make_media: Any, line: str) -> None:
    emulator()
    series = write(tmp_path / "b", make_media, BOARDS.replace("provider: {name: dashscope, poll: [0.2]}\n", line))
    r = invoke("render", series, "--yes", "--boards", "--provider", "dashscope")
    print(r.output)
    r = invoke("retake", series, "boards/ep01/hello", "--yes")
    print("RETAKE", r.exit_code, r.output)
    r = invoke("pick", series, "boards/ep01/hello", "2")
    print("PICK", r.exit_code, r.output)
    r = invoke("approve", series, "boards/ep01/hello")
    print("APPROVE", r.exit_code, r.output)
    for k, s in rows(planned(series)).items():
        print(k, s["status"], s.get("note"))
    print(json.loads((series / "storyboard.lock").read_text())["takes"])
    assert 0
