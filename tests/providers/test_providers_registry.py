"""Provider kinds declared once: every kind made by its family's constructor, and no module outside
the declaration (``targets/kinds.py``) and the registry (``providers/registry.py``) comparing a
provider's name."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import storyboard
from storyboard.errors import StoryboardError
from storyboard.providers.registry import calling_back, make
from storyboard.targets.kinds import KINDS, NAMES, OWN_EDIT, is_paid, passes

PACKAGE = Path(storyboard.__file__).resolve().parent
OWNERS = {PACKAGE / "targets" / "kinds.py", PACKAGE / "providers" / "registry.py"}
# the emulator checks each wire dialect's own body rules by the dialect's name (a peer, not a kind)
PEER = PACKAGE / "emulator" / "gateways" / "bodies.py"
LISTS = {"GATEWAYS", "FREE_PROVIDERS"}  # lists of names compared against instead of a trait


def settings(name: str, root: Path) -> dict[str, object]:
    """The least a series' block of kind ``name`` says (ComfyUI needs a workflow file)."""
    if not KINDS[name].workflows:
        return {}
    (root / "flow.json").write_text(json.dumps({"1": {"class_type": "SaveVideo", "inputs": {}}}))
    return {"workflow": "flow.json"}


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_is_made_by_its_familys_constructor(name: str, tmp_path: Path) -> None:
    provider = make(name, settings(name, tmp_path), tmp_path)
    assert provider.name == name
    assert provider.traits.paid == KINDS[name].paid == is_paid(name)
    assert (calling_back(provider) is provider) == (KINDS[name].callbacks
                                                    and provider.traits.webhooks)


def test_only_a_kind_that_draws_drafts_takes_draft(tmp_path: Path) -> None:
    assert [name for name in NAMES if KINDS[name].drafts] == ["local"]
    with pytest.raises(StoryboardError, match="--draft renders animatics"):
        make("dashscope", {}, tmp_path, draft=True)
    with pytest.raises(StoryboardError, match="unknown provider 'nobody'; expected one of: local"):
        make("nobody", {}, tmp_path)


def _names_a_kind(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in KINDS
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_kind(item) for item in node.elts)
    return isinstance(node, ast.Name) and node.id in LISTS


def comparisons(path: Path, root: Path = PACKAGE) -> list[str]:
    """Each comparison in ``path`` with a provider's name or a list of names, as ``line: code``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}"
            for node in ast.walk(tree) if isinstance(node, ast.Compare)
            and any(_names_a_kind(side) for side in (node.left, *node.comparators))]


def test_no_module_outside_the_declaration_compares_a_providers_name() -> None:
    modules = [p for p in sorted(PACKAGE.rglob("*.py")) if p not in OWNERS and p != PEER]
    assert [line for path in modules for line in comparisons(path)] == []


def test_the_scan_sees_a_comparison_by_name_and_by_list(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('def f(name: str) -> bool:\n'
                      '    return name == "comfyui" or name in GATEWAYS or name == "other"\n')
    assert comparisons(sample, tmp_path) == ["sample.py:2: name == 'comfyui'",
                                             "sample.py:2: name in GATEWAYS"]


def test_the_passes_over_a_take_are_declared_on_the_kinds() -> None:
    """Which kind edits by words and which lip-syncs is its declaration: DashScope's own edit
    and lip-sync models, and the Seedance hosts' and Kling's edit by the take's own model (the
    models they sell declare the edit task: Seedance 2.5, Kling 4.0); no other kind makes a pass."""
    edits = {name: kind.edits for name, kind in KINDS.items() if kind.edits}
    assert edits == {"dashscope": "wan2.7-videoedit", "ark": OWN_EDIT, "modelark": OWN_EDIT,
                     "kling": OWN_EDIT}
    assert {name: kind.lipsyncs for name, kind in KINDS.items() if kind.lipsyncs} == \
        {"dashscope": "videoretalk"}
    assert passes("nobody").edits == "" and passes(None).lipsyncs == ""
