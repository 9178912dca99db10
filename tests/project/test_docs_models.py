"""docs/models.md: its tables come from the declarations, through the MkDocs hook."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from storyboard.targets.table import models_markdown, sources_markdown, targets_markdown
from storyboard.targets.video.models import MODELS
from storyboard.targets.wire.gateways import TARGETS

ROOT = Path(__file__).resolve().parents[2]


def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("capability_table", ROOT / "hooks" /
                                                  "capability_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_hook_writes_every_model_and_target_into_the_page() -> None:
    page = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    out = hook().on_page_markdown(page, None, None, None)
    assert "<!-- capability-table" not in out
    for name in (*MODELS, *TARGETS):
        assert f"| {name} |" in out
    for table in (models_markdown(), targets_markdown(), sources_markdown()):
        assert table in out
    assert "third-party" in out and "wan2.7-r2v-2026-06-12" in out


def test_the_hook_leaves_other_pages_alone() -> None:
    assert hook().on_page_markdown("# Money\n", None, None, None) == "# Money\n"


def test_mkdocs_runs_the_hook_and_lists_the_page() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "hooks/capability_table.py" in config and "models.md" in config
