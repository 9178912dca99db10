"""The runner as parts a reader can follow (issue 55): a shot's way is driven by ``ShotRun``
through a ``Submitter``, a ``Reconciler``, a ``Poller`` and a ``Downloader`` that share one
``Session``; none inherits from another, and each calls only what it holds. A plan reads the
output cache its set-up holds."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.language.variations import compile_variations
from storyboard.run.rendering import plan_setup
from storyboard.run.setup import RenderFlags, open_run
from storyboard.run.state.cache import OutputCache
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]

# module of run/trip -> its part
PARTS = {"download": "Downloader", "poll": "Poller", "reconcile": "Reconciler",
         "submit": "Submitter", "runner": "ShotRun", "session": "Session"}


def part(module: str) -> type:
    found: type = getattr(importlib.import_module(f"storyboard.run.trip.{module}"), PARTS[module])
    return found


def class_tree(cls: type) -> ast.ClassDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    node = tree.body[0]
    assert isinstance(node, ast.ClassDef)
    return node


def held(node: ast.ClassDef) -> set[str]:
    """What ``__init__`` keeps on ``self``."""
    init = next(f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
    return {target.attr for target in ast.walk(init)
            if isinstance(target, ast.Attribute) and isinstance(target.ctx, ast.Store)
            and isinstance(target.value, ast.Name) and target.value.id == "self"}


def used_on_self(node: ast.ClassDef) -> set[str]:
    """Every ``self.NAME`` the class's methods read, ``__init__`` aside."""
    methods = [f for f in node.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
               and f.name != "__init__"]
    return {attr.attr for method in methods for attr in ast.walk(method)
            if isinstance(attr, ast.Attribute) and isinstance(attr.value, ast.Name)
            and attr.value.id == "self" and isinstance(attr.ctx, ast.Load)}


@pytest.mark.parametrize("module", sorted(PARTS))
def test_no_part_of_the_runner_inherits_from_another(module: str) -> None:
    assert part(module).__bases__ == (object,)


@pytest.mark.parametrize("module", sorted(set(PARTS) - {"session"}))
def test_a_part_calls_only_its_own_methods_and_the_parts_it_holds(module: str) -> None:
    """A ``self.`` call never jumps to another module's class: it names a method of this class
    or a part ``__init__`` holds (``self.session.emit``, ``self.poller.poll``); and each part
    it holds is called."""
    node = class_tree(part(module))
    own = {f.name for f in node.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}
    used = used_on_self(node)
    assert used - own - held(node) == set()
    assert held(node) - used == set()


def test_the_runner_holds_the_parts_each_calls() -> None:
    """Who holds whom: the poller takes its finished tasks to the downloader, the submitter
    calls the reconciler, the poller and the downloader; the session holds no part."""
    holds = {module: held(class_tree(part(module))) for module in PARTS if module != "session"}
    shared = {"session", "money", "events", "pacing"}
    assert holds == {
        "download": shared,
        "poll": shared | {"downloader"},
        "reconcile": shared,
        "submit": shared | {"reconciler", "poller", "downloader"},
        "runner": shared | {"downloader", "poller", "reconciler", "submitter"}}


# issue 66: the run's money, pace and events are objects of their own, beside the session
SMALL = {"budget.money": "Money", "pace.pacing": "Pacing", "events": "Events"}


def test_the_session_takes_at_most_five_things() -> None:
    init = inspect.signature(part("session").__init__)
    assert len(init.parameters) - 1 <= 5, list(init.parameters)


@pytest.mark.parametrize("module", sorted(SMALL))
def test_money_pace_and_events_hold_no_session_and_no_part(module: str) -> None:
    """Each of the run's small objects is built from what it uses: never the session, the
    provider or a part of the runner (the provider asks through them, not they through it)."""
    cls = getattr(importlib.import_module(f"storyboard.run.trip.{module}"), SMALL[module])
    assert cls.__bases__ == (object,)
    kept = held(class_tree(cls))
    assert not kept & ({"session", "provider"} | set(PARTS) | {p.lower() for p in PARTS.values()})
    assert len(inspect.signature(cls.__init__).parameters) - 1 <= 5


def test_what_the_session_held_is_now_held_by_money_pace_and_events() -> None:
    """The session keeps none of the money's, the pace's or the events' own state or verbs."""
    session = held(class_tree(part("session"))) | {
        f.name for f in class_tree(part("session")).body if isinstance(f, ast.FunctionDef)}
    for module, name in SMALL.items():
        cls = getattr(importlib.import_module(f"storyboard.run.trip.{module}"), name)
        node = class_tree(cls)
        own = {f.name for f in node.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
               and f.name != "__init__"}
        shared = {"options", "clock", "cache", "task_key"}  # what each reads, nobody's state
        assert not ((own | held(node)) - shared) & session, module


def test_a_plan_reads_the_output_cache_its_set_up_holds(tmp_path: Path,
                                                        make_media: MakeMedia) -> None:
    """The set-up builds the cache once (``RunSetup.cache``) and the plan takes it, rather than
    building its own from the series folder."""
    series = write_series(tmp_path / "s", make_media, """\
        - id: ep01
          shots:
            - {id: a, prompt: "@mia waves"}
        """, head=MIA_HEAD)
    with open_run(compile_variations(series), RenderFlags(draft=True)) as setup:
        held_cache = OutputCache(tmp_path / "elsewhere", setup.provider.cache_key)
        for shot in setup.shots:
            held_cache.path(shot.hash).parent.mkdir(parents=True, exist_ok=True)
            held_cache.path(shot.hash).write_bytes(b"")
        setup.cache = held_cache  # what the set-up holds is what the plan reads
        assert plan_setup(setup).counts()["cached"] == len(setup.shots) == 1
