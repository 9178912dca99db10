"""A provider is handed its run's hooks, never patched (issue 66, item 1).

As httpx's client takes its ``event_hooks``, a provider takes its run's ``Hooks`` (the lookups'
retry policy, where pushed progress goes, where status callbacks go) through its own
``with_hooks``: no module outside ``providers/`` writes an attribute on a provider object
(``provider.ask = ...``, ``self.provider.x = ...``, ``setattr(provider, ...)``), nor a hook's
attribute on any object but its own ``self``. Read from the source; the scan is shown to catch
made-up offenders, so it cannot pass by reading nothing. The runner's session is shown to hand
its hooks over, and to leave the provider's other hooks as they were.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path

import pytest

from storyboard.providers.base import Hooks
from tests.fixtures.paths import ROOT

PACKAGE = ROOT / "storyboard"
HOOKS = frozenset({"hooks", *(field.name for field in fields(Hooks))})
OWN = frozenset({"self", "cls"})


def _holder(node: ast.expr) -> str:
    """The name an attribute is reached through: ``provider`` in ``setup.provider.x``."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _patches(target: ast.expr) -> bool:
    """Whether assigning to ``target`` writes a provider's attribute or a hook from outside."""
    if not isinstance(target, ast.Attribute):
        return False
    holder = _holder(target.value)
    return "provider" in holder.lower() or (target.attr in HOOKS and holder not in OWN)


def _targets(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield from target.elts if isinstance(target, ast.Tuple | ast.List) else (target,)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        yield node.target


def _set_by_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id in ("setattr", "delattr") and bool(node.args) and \
        "provider" in _holder(node.args[0]).lower()


def offences(source: str) -> list[str]:
    """Each place ``source`` writes an attribute on a provider object (or a hook) from outside."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        found += [f"line {node.lineno}: {ast.unparse(t)} = ..." for t in _targets(node)
                  if _patches(t)]
        found += [f"line {node.lineno}: {ast.unparse(node)}"] if _set_by_name(node) else []
    return found


def test_no_module_outside_providers_patches_a_provider() -> None:
    checked = [path for path in sorted(PACKAGE.rglob("*.py"))
               if path.relative_to(PACKAGE).parts[0] != "providers"]
    assert len(checked) > 100  # the package, not nothing
    found = {path.relative_to(ROOT).as_posix(): offences(path.read_text(encoding="utf-8"))
             for path in checked}
    assert {path: lines for path, lines in found.items() if lines} == {}


@pytest.mark.parametrize("planted", [
    "def f(provider, session):\n    provider.ask = session.patiently\n",
    "class S:\n    def f(self):\n        self.provider.on_progress = self.heard\n",
    "def f(setup, url):\n    setup.provider.webhook_url = url\n",
    "def f(chosen, hooks):\n    chosen.hooks = hooks\n",
    "def f(provider):\n    provider.count += 1\n",
    "def f(provider, a):\n    provider.x, provider.y = a\n",
    "def f(provider, fn):\n    setattr(provider, 'ask', fn)\n",
])
def test_a_planted_patch_is_caught(planted: str) -> None:
    assert offences(planted)


def test_what_patches_no_provider_passes() -> None:
    clean = ("class P:\n    def __init__(self, hooks):\n        self.hooks = hooks\n"
             "        self.webhook_url = None\n"
             "def f(row, provider):\n    row.ended = True\n    name = provider.name\n")
    assert offences(clean) == []


def test_hooks_are_given_to_a_copy_and_the_provider_asked_keeps_its_own(tmp_path: Path) -> None:
    """``with_hooks`` returns a new provider holding the hooks (as httpx's clients take their
    ``event_hooks`` when they are made); the provider it was asked of is left as it was."""
    from storyboard.providers.local import LocalProvider
    provider = LocalProvider(tmp_path / "work")
    called_back = provider.with_hooks(Hooks(webhook_url="http://here/"))
    assert called_back is not provider
    assert provider.webhook_url is None and provider.hooks == Hooks()
    assert called_back.webhook_url == "http://here/"


def test_the_run_hands_its_pace_and_its_events_to_the_provider(tmp_path: Path) -> None:
    """The run's retry policy (``Pacing.patiently``) and its events' ear (``Events.heard``) go
    to the provider through ``with_hooks``, keeping the status callbacks' address given before."""
    from storyboard.providers.local import LocalProvider
    from storyboard.run.state.cache import OutputCache
    from storyboard.run.trip.budget.money import Money
    from storyboard.run.trip.events import Events
    from storyboard.run.trip.model import RunOptions
    from storyboard.run.trip.pace.pacing import Pacing, Timing
    provider = LocalProvider(tmp_path / "work").with_hooks(Hooks(webhook_url="http://here/"))
    pacing = Pacing(RunOptions(), None, "key", Timing(_sleep, lambda: 0.0, random.Random(0)))
    events = Events(None, lambda: 0.0, OutputCache(tmp_path, provider.cache_key),
                    Money(provider.prices, None, None, None))
    hooked = provider.with_hooks(replace(provider.hooks, ask=pacing.patiently,
                                         on_progress=events.heard))
    assert hooked.ask == pacing.patiently and hooked.on_progress == events.heard
    assert hooked.webhook_url == "http://here/"
    assert provider.on_progress is None and provider.ask != pacing.patiently


@pytest.mark.parametrize("part", ["pictures", "cast"])
def test_a_part_that_asks_through_its_provider_asks_through_the_copy(tmp_path: Path,
                                                                     part: str) -> None:
    """A provider's part that asks through it (a gateway's picture calls, DashScope's cast
    calls) asks through the copy holding the hooks, not through the provider it was copied
    from; what the part keeps is shared."""
    from storyboard.providers.registry import make
    from storyboard.targets.kinds import KINDS
    made = [make(name, {}, tmp_path) for name in KINDS if KINDS[name].paid]
    provider = next(p for p in made if getattr(p, part, None) is not None)
    hooked = provider.with_hooks(Hooks(webhook_url="http://here/"))
    asker = "caller" if part == "pictures" else "provider"
    assert getattr(getattr(hooked, part), asker) is hooked
    assert getattr(getattr(provider, part), asker) is provider


async def _sleep(seconds: float) -> None:
    return None
