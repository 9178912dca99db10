"""The resolver's passes: one declared tuple, one context, one resolved-shot type (issue 66, item 4).

``resolve.PASSES`` lists every pass over a shot in order; each is ``(context, shot, given)`` with
the one ``resolved.Resolving`` context (the resolver) and the one concrete ``ResolvedShot``. The
plug-in modules declare no protocol of their own, and a new pass is one entry in the tuple.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from storyboard.language.read.series import load_source
from storyboard.language.resolving import boards, liproutes, looks, modelcheck, resolve
from storyboard.language.resolving.resolved import Given, ResolvedShot, Resolving
from tests.fixtures.compiler import BALLAD, write_series
from tests.fixtures.paths import ROOT

MakeMedia = Any


def test_the_passes_are_the_declared_tuple_in_order() -> None:
    assert (
        looks.look_pass, resolve.first_frame, modelcheck.frames_pass, boards.board_pass, liproutes.route_pass,
        resolve.transition, resolve.checks, modelcheck.check_pass) == resolve.PASSES


@pytest.mark.parametrize("step", resolve.PASSES, ids=lambda step: step.__qualname__)
def test_each_pass_takes_the_one_context_shot_and_given(step: Any) -> None:
    hints = get_type_hints(step, vars(inspect.getmodule(step)))
    assert [hints[name] for name in inspect.signature(step).parameters] == [
        Resolving, ResolvedShot, Given]
    assert hints["return"] is type(None)


def test_no_plug_in_declares_a_protocol_of_its_own() -> None:
    for module in ("boards", "liproutes", "modelcheck", "resolve", "looks"):
        tree = ast.parse((ROOT / "storyboard" / "language" / "resolving" / f"{module}.py").read_text())
        protocols = [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                     and any(ast.unparse(b).endswith("Protocol") for b in node.bases)]
        assert protocols == [], (module, protocols)


def test_every_pass_runs_with_the_resolver_as_its_context(tmp_path: Path, make_media: MakeMedia,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_series(tmp_path / "s", make_media, BALLAD)
    seen: list[tuple[str, str, type, type, list[str]]] = []

    def watching(step: Any) -> Any:
        def watched(ctx: Resolving, shot: ResolvedShot, given: Given) -> None:
            earlier = [given.earlier[-1].id] if given.earlier else []
            seen.append((step.__name__, shot.id, type(ctx), type(shot), earlier))
            step(ctx, shot, given)
        return watched

    names = [step.__name__ for step in resolve.PASSES]
    monkeypatch.setattr(resolve, "PASSES", tuple(watching(step) for step in resolve.PASSES))
    resolver = resolve.Resolver(load_source(root / "storyboard.yaml"))
    episodes = resolver.episodes()
    assert [s.id for s in episodes[0].shots] == ["ballad", "reply"]
    assert [(name, shot) for name, shot, *_ in seen] == [
        (name, shot) for shot in ("ballad", "reply") for name in names]
    assert {(ctx, kind) for _, _, ctx, kind, _ in seen} == {(resolve.Resolver, ResolvedShot)}
    assert {shot: earlier for _, shot, _, _, earlier in seen} == {"ballad": [], "reply": ["ballad"]}
    reply = episodes[0].shots[1]
    assert reply.first_frame_from == "ballad" and reply.transition.type == "crossfade"


def test_a_new_pass_is_one_entry(tmp_path: Path, make_media: MakeMedia,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_series(tmp_path / "s", make_media, BALLAD)

    def tag(ctx: Resolving, shot: ResolvedShot, given: Given) -> None:
        shot.checks = {**shot.checks, "tagged": len(given.names)}

    monkeypatch.setattr(resolve, "PASSES", (*resolve.PASSES, tag))
    shots = resolve.Resolver(load_source(root / "storyboard.yaml")).episodes()[0].shots
    assert [s.checks for s in shots] == [{"tagged": 3}, {"tagged": 2}]
