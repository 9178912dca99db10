"""A matrix render's versions inside its one question (issue 99, item 3): the versions' plans join
the first question the render asks (the variations' and the versions' cost in one "Spend
about ...?"), a version no question covered asks once for itself and those after it, a no
submits nothing, and a version its provider cannot make stops the render before a variation
is made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from storyboard.cli.runs.renderview import RenderView
from storyboard.errors import (
    BudgetExceeded,
    Diagnostic,
    ProblemsFound,
    StoryboardError,
)
from storyboard.language.request import CompiledShot
from storyboard.language.variations import compile_variations
from storyboard.review.progress import LiveProgress
from storyboard.run import read_lock, rendering
from storyboard.run.plans import Plan, ShotPlan
from storyboard.run.setup import Callbacks, RenderFlags, RunSetup, make_provider
from storyboard.run.state.cache import OutputCache
from storyboard.run.trip.guards.mediacheck import MediaMismatch
from storyboard.run.variations import MatrixPlan, MatrixReport
from storyboard.run.versions import matrix
from storyboard.run.versions.question import Question, refused
from tests.fixtures.dashscope_cli import Emulator
from tests.run.test_run_versions_matrix_bases import BASES, _rendered, _series
from tests.run.test_run_versions_version import MakeMedia, counts, run

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

DASHSCOPE = RenderFlags("dashscope")


class Asked:
    """A person at a terminal: each question's amount, each plan shown, one answer for all."""

    def __init__(self, answer: bool) -> None:
        self.answer, self.amounts, self.shown = answer, list[float](), list[MatrixPlan]()

    def confirm(self, the_plan: Plan) -> bool:
        cost = the_plan.total_cost if the_plan.budget_cost is None else the_plan.budget_cost
        self.amounts.append(round(cost, 4))
        return self.answer

    def render(self, root: Path, flags: RenderFlags = DASHSCOPE) -> MatrixReport:
        return matrix.render(compile_variations(root), flags,
                             Callbacks(confirm=self.confirm, on_plan=self.shown.append))


def _priced(root: Path) -> tuple[float, dict[str, float]]:
    """What the render's variations cost (its one group) and each version, as planned."""
    variants = compile_variations(root)
    plans = matrix.plan(variants, DASHSCOPE)
    versions = {route.variation: matrix.plan_route(route, DASHSCOPE).total_cost
                for route in matrix.routes_for(variants, DASHSCOPE)}
    return plans[0].plan.total_cost, versions


def test_the_variations_and_their_version_are_asked_for_in_one_question(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    server = emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, "espresso-en")  # espresso-es a version; latte-es rendered as any variation
    group, versions = _priced(root)
    assert list(versions) == ["espresso-es"] and group > 0 and versions["espresso-es"] > 0
    speech, passes, _ = counts(server)
    person = Asked(True)
    report = person.render(root)
    assert person.amounts == [round(group + versions["espresso-es"], 4)]  # one question
    assert [v.name for v in person.shown[0].versions] == ["espresso-es"]  # shown with it
    console = Console(record=True, width=400)
    RenderView(console, LiveProgress(console, ""), True).plan(person.shown[0])
    assert "espresso-es: the es version of espresso-en (its shots approved)" \
        in console.export_text()  # what the terminal shows above the question
    assert report.ok and [v.made_as for v in report.versions] == ["cups/espresso-es"]
    assert counts(server)[:2] == (speech + 1, passes + 1)  # its line and its pass made
    # one run: the variation's takes, then the version's line, then the pass laid on it
    [made] = report.runs
    assert report.versions[0].runs == [] and report.spent == made.spent > 0
    done = [s.key for s in made.shots if s.state == "done"]
    assert [s.key for s in report.versions[0].shots if s.state == "done"] == done[-2:]


def test_versions_after_cached_variations_ask_once_for_them_all(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, *BASES)  # both es variations versions, every variation cached
    group, versions = _priced(root)
    assert group == 0 and sorted(versions) == ["espresso-es", "latte-es"]
    person = Asked(True)
    report = person.render(root)
    assert person.amounts == [round(sum(versions.values()), 4)]  # the first asks for both
    assert report.ok and len(report.versions) == 2 and all(v.ok for v in report.versions)


def test_a_no_to_the_one_question_submits_nothing(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    server = emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, "espresso-en")
    before = counts(server)
    person = Asked(False)
    with pytest.raises(BudgetExceeded, match="not confirmed"):
        person.render(root)
    assert len(person.amounts) == 1 and counts(server) == before


def test_a_version_its_provider_cannot_make_stops_the_render_before_a_variation_is_made(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, "espresso-en")
    person = Asked(True)
    with pytest.raises(StoryboardError, match="local does not make"):
        person.render(root, RenderFlags("local"))
    assert person.amounts == [] and person.shown == []  # planned before anything: nothing made
    assert not any((root / "out").glob("latte-es/**/*.mp4"))
    local = OutputCache(root, make_provider(compile_variations(root).combined(), "local").cache_key)
    assert not local.dir.exists()  # no take of any variation made on the local provider
    code, _, said = run("render", root, "--provider", "local", "--variation", "latte-es",
                        "--json")  # the variation alone (no version in it) is made there
    assert code == 0 and local.dir.exists(), said


def _plan(currency: str, *costs: float, budget_cost: float | None = None) -> Plan:
    shots = [ShotPlan("cups/x", "ep01", f"s{n}", f"h{n}", "new", "720P", 4, 4.0, cost)
             for n, cost in enumerate(costs)]
    return Plan("dashscope", "key", currency, shots, budget_cost=budget_cost)


def test_a_question_joins_the_waiting_versions_of_its_currency_and_what_a_budget_buys() -> None:
    person = Asked(True)
    question = Question(person.confirm, {"es": _plan("USD", 0.2, 0.3), "cn": _plan("CNY", 1.0),
                                         "pt": _plan("USD", 0.5)}, budget=None)
    assert question.ask(_plan("USD", 1.0)) and person.amounts == [2.0]  # 1.0 + 0.5 + 0.5
    assert question.claim("es") and question.claim("pt") and not question.claim("cn")
    question.ask(_plan("USD", 0.1))  # nothing waits any more: only its own plan
    assert person.amounts[-1] == 0.1
    # under a budget's cut: what the cut buys, and what of the budget is left to the versions
    cut = Question(person.confirm, {"es": _plan("USD", 0.5, 0.5)}, budget=1.5)
    cut.ask(_plan("USD", 2.0, budget_cost=1.2))
    assert person.amounts[-1] == 1.5  # 1.2 of the variations, 0.3 left of the 1.0 asked
    spare = Question(person.confirm, {"es": _plan("USD", 0.5)}, budget=3.0)
    spare.ask(_plan("USD", 2.0, budget_cost=1.2))
    assert person.amounts[-1] == 1.7
    with pytest.raises(ProblemsFound):
        refused([_plan("USD", 0.1), replace(_plan("USD"), refused=[
            Diagnostic(None, "a pass refused")])])
    refused([_plan("USD", 0.1)])  # none refused: nothing raised


def test_a_version_whose_lines_cannot_be_sent_in_the_run_stops_after_the_variations_are_kept(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The version's lines are checked (``rendering.check_sending``: a gateway's media check)
    inside the run, once the variation's takes end; refused there, nothing of the version is
    sent, the variation's take is kept in the lock and its episode stitched, the render ends with
    the refusal, and the next render makes the version alone, paying nothing twice."""
    server = emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, "espresso-en")
    checked = rendering.check_sending

    def media_gone(setup: RunSetup, shots: list[CompiledShot]) -> None:
        if any("/lines/" in s.shot_id or s.asset is not None for s in shots):
            raise MediaMismatch("a line's voice is not where the gateway fetches it")
        checked(setup, shots)

    speech, passes, videos = counts(server)
    with monkeypatch.context() as patch, pytest.raises(MediaMismatch, match="gateway fetches"):
        patch.setattr(rendering, "check_sending", media_gone)
        Asked(True).render(root)
    assert counts(server)[:2] == (speech, passes) and counts(server)[2] == videos + 1
    assert (root / "out" / "latte-es" / "ep01.mp4").is_file()  # the variation made, kept
    assert "cups/latte-es/ep01/hello" in read_lock(root / "storyboard.lock").shots
    report = Asked(True).render(root)
    assert report.ok and counts(server) == (speech + 1, passes + 1, videos + 2)
