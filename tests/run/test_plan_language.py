"""``plan --language`` (issue 68.7): a version's lines, lip-sync passes and translation priced beside
what rendering the same shots again would cost, as text and JSON, under ``--max-cost``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.language.versions.versioncheck import MEASURED
from storyboard.language.versions.versionfile import (
    Version,
    VersionLine,
    text_hash,
    version_path,
    write_version,
)
from tests.fixtures.versions import versioned


def plan(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner(env={"DASHSCOPE_API_KEY": "sk-test-plan"}).invoke(
        cli, ["plan", str(root), "--provider", "dashscope", "--language", "es", *args])
    return result.exit_code, result.output


def test_the_version_is_priced_beside_a_re_render(tmp_path: Path,
                                                  make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    write_version(version_path(root, "es", "ep02"), Version("es", "en", "ep02", (
        VersionLine("morning", 1, "mia", 0, 3, "voice_reference", "Good morning, everyone.",
                    "¡Buenos días a todos!"),)))
    code, said = plan(root, "--json")
    assert code == 0, said
    data = json.loads(said[said.index("{"):])
    assert data["episodes"] == ["ep01", "ep02"] and data["currency"] == "USD"
    # passes: toast (lipsync, 4 s) and morning (a face speaking, 3 s); the narrator none
    assert data["passes"] == {"count": 2, "seconds": 7.0, "cost": round(0.0459 + 0.0345, 6)}
    # three shots, 12 s at wan2.7-r2v's 720P 0.10 USD a second
    assert data["rerender"] == {"shots": 3, "seconds": 12.0, "cost": 1.2}
    # ep02's words as written; ep01's two lines still have none: priced by their source
    assert data["lines"]["count"] == 3 and data["lines"]["estimated"] == 2
    assert data["lines"]["characters"] == len("¡Buenos días a todos!To retirement."
                                              "She never came back.")
    assert 0 < data["lines"]["cost"] < 0.01 and data["videos_rendered"] == 0
    assert data["version"] == round(data["lines"]["cost"] + data["passes"]["cost"], 6)
    assert data["saving"] == round(1.2 - data["version"], 6)
    assert data["translation"]["calls"] == 1  # ep01 is not translated yet (the cache alone)
    code, said = plan(root)
    assert code == 0 and "lip-sync:    2 pass(es) over approved takes (7 s): 0.0804 USD" in said
    assert "re-render:   3 shot(s) rendered again (12 billed s): 1.2000 USD" in said
    code, said = plan(root, "--max-cost", "0.05")
    assert code == 1 and "over --max-cost 0.05" in said
    code, said = plan(root, "--episode", "ep02", "--json")
    assert json.loads(said[said.index("{"):])["passes"]["count"] == 1
    # a line made and measured over its window is said beside the price, at its line
    measured = root / MEASURED / "es" / "ep02.json"
    measured.parent.mkdir(parents=True)
    measured.write_text(json.dumps({"lines": [{"shot": "morning", "n": 1, "seconds": 3.5,
                                               "text": text_hash("¡Buenos días a todos!")}]}))
    code, said = plan(root, "--json")
    over = json.loads(said[said.index("{"):])["over_window"]
    assert len(over) == 1 and over[0]["where"].endswith("languages/es/ep02.yaml:7:5")
    assert "0.50 s over its 3 s window" in over[0]["message"]
    code, said = plan(root)
    assert "ep02.yaml:7:5: warning: this line lasts 3.50 s as made, 0.50 s over" in said


def test_the_version_is_priced_without_opening_a_run(tmp_path: Path,
                                                     make_media: Callable[..., Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``plan --language`` prices by the run's own prices (``run_prices``: the provider's, the
    series' ``prices:`` over them) and opens no run for them: no lock read, no store opened."""
    from storyboard.run import setup
    root = versioned(tmp_path, make_media)
    opened: list[object] = []
    monkeypatch.setattr(setup, "open_store", lambda *a, **k: opened.append(a) or None)
    code, said = plan(root, "--json")
    assert code == 0, said
    assert json.loads(said[said.index("{"):])["passes"]["cost"] == round(0.0459 + 0.0345, 6)
    assert opened == []
