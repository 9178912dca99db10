"""A matrix render's versions into the run of their base's provider group: each version's lines
and lip-sync passes made in the run that renders the group's variations, once its takes end.

``matrix.render`` hands ``Joining`` to the pipeline (``pipeline.Join``). Once a group's run has
its consent, and before it starts, each version whose base is in the group is planned (free),
and asked for when no question covered it yet: a no, or a version nobody consented to, stops
the render before anything of the group is paid. Once the group's takes end, the run goes on
to the versions' lines, each version consented to under what the takes left of the budget
(``rendering.consent``: its budget's cut, what it sends checked); then to the passes laid on
them (``version.LaterPasses``). The run's one budget holds them all. After the run each version
is measured and stitched (``version.finish_version``). A version whose base renders in no group
of this render (``--variation`` named it alone) is made in a run of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from storyboard.errors import BudgetExceeded, StoryboardError
from storyboard.run.plans import check_consent
from storyboard.run.setup import Callbacks, RenderFlags, RunSetup
from storyboard.run.trip.model import Later, RunResult, ShotResult
from storyboard.run.versions.question import Question
from storyboard.run.versions.version import (
    Prepared,
    VersionReport,
    finish_version,
    prepare_version,
)
from storyboard.run.versions.versionroutes import Route, region


@dataclass
class Joined:
    """A version made in a group's run: its route, its planned set-up, whether a yes covers it."""

    route: Route
    made: Prepared
    agreed: bool


@dataclass
class Joining:
    """The versions of a render made in its groups' runs (``pipeline.Join``)."""

    routes: list[Route]
    flags: RenderFlags
    calls: Callbacks
    question: Question
    joined: list[Joined] = field(default_factory=list)
    refused: StoryboardError | None = None  # why a joined version's lines were not sent

    def __call__(self, setup: RunSetup) -> Lines | None:
        """The versions whose base is in ``setup``'s group, planned and asked for before its
        run starts; what the run goes on to once its takes end (None: no version joins)."""
        names = {m.name for m in setup.variants.manifests} if setup.variants else set()
        taken = {j.route.variation for j in self.joined}
        mine = [r for r in self.routes if r.base.name in names and r.variation not in taken]
        for route in mine:  # each kept as it is made: a later one refused, all are closed
            self.joined.append(self._prepared(route, setup))
        group = self.joined[len(self.joined) - len(mine):]
        return Lines(self, group, setup) if group else None

    def _prepared(self, route: Route, setup: RunSetup) -> Joined:
        made = prepare_version(route.base, route.language, self.flags, self.calls,
                               region(route.base, self.flags), route.made_as, route.home)
        try:
            agreed = self._asked(route.variation, made)
            check_consent(made.plan, yes=self.flags.yes or agreed, budget=self.flags.budget,
                          interactive=False, paid=setup.provider.traits.paid)
        except BaseException:
            made.setup.close()
            raise
        return Joined(route, made, agreed)

    def _asked(self, name: str, made: Prepared) -> bool:
        """Whether a yes covers the version: the render's question did, or it is asked now
        (with every version still waiting), before the group's run; a no stops the render."""
        if self.question.claim(name):
            return True
        confirm = self.question.asking()
        paid = made.setup.provider.traits.paid
        if confirm is None or self.flags.yes or check_consent(
                made.plan, yes=False, budget=self.flags.budget, interactive=True,
                paid=paid) != "ask":
            return False
        if not confirm(made.plan):
            raise BudgetExceeded("nothing was submitted: the render was not confirmed")
        return True

    def reports(self, runs: list[RunResult]) -> list[VersionReport]:
        """Each joined version after its group's run: measured, stitched (its set-up closed);
        a version refused in the run stops here, its lines kept."""
        ended = [s for run in runs for s in run.shots]
        try:
            if self.refused is not None:
                raise self.refused
            return [finish_version(j.made, ended, self.flags.out, self.calls)
                    for j in self.joined]
        finally:
            self.close()

    def close(self) -> None:
        for each in self.joined:
            each.made.setup.close()


@dataclass
class Lines:
    """What a group's run goes on to once its takes end (``Wiring.later``): its versions'
    lines, each consented to under what is left of the group's budget, then their passes."""

    joining: Joining
    group: list[Joined]
    setup: RunSetup

    def __call__(self, ended: Sequence[ShotResult]) -> Later:
        budget = self.setup.flags.budget
        left = None if budget is None else max(0.0, budget - sum(r.cost for r in ended))
        going: list[Joined] = []
        for each in self.group:
            made = each.made
            made.setup.flags = replace(made.setup.flags, budget=left,
                                       yes=self.joining.flags.yes or each.agreed)
            made.setup.calls = replace(made.setup.calls, confirm=None)
            try:
                made.agree()
            except StoryboardError as error:
                self.joining.refused = self.joining.refused or error
                continue
            going.append(each)
            if left is not None:
                cost = made.plan.budget_cost
                left = max(0.0, left - (made.plan.total_cost if cost is None else cost))
        held = {r.hash for r in ended}  # the base's voices: in the run already
        lines = list({s.hash: s for j in going for s in j.made.setup.shots
                      if s.hash not in held}.values())
        skips = {h: why for j in going for h, why in j.made.setup.skips.items()}
        return Later(lines, skips, Passes(going))


@dataclass
class Passes:
    """The joined versions' passes, once their lines end (each version's: ``LaterPasses``)."""

    group: list[Joined]

    def __call__(self, ended: Sequence[ShotResult]) -> Later:
        asked = [j.made.passes(ended) for j in self.group]
        return Later([s for each in asked for s in each.shots],
                     {h: why for each in asked for h, why in each.skips.items()})
