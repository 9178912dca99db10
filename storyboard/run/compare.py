"""A series and a list of models into prices side by side, and what each model would refuse.

``storyboard plan --compare MODEL,MODEL``: the series as if every shot were on one model (each
``model:`` of an episode's ``defaults`` or a shot replaced by the series' default), compiled
leniently, each shot priced at that model's list price (the series' ``prices:`` apply), and every
error ``check`` would give on it listed with the shot it is about. Nothing is submitted, nothing is
looked up in a cache: the figure is what rendering the whole series (or one episode) would cost.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.compile import compile_lenient
from storyboard.language.document import Document
from storyboard.language.read.series import EpisodeSource, Source, UsageError, load_source
from storyboard.language.request import CompiledShot
from storyboard.run.trip.budget.costs import estimate
from storyboard.targets.capabilities import PriceTable
from storyboard.targets.kinds import has, is_paid
from storyboard.targets.video.models import DEFAULT_MODEL, family, model_of
from storyboard.targets.video.retired import retirement
from storyboard.targets.wire.gateways import DASHSCOPE_KEY_ENV, DASHSCOPE_NAME, TARGETS

SERIES_WIDE = "(series)"  # a refusal at a default, not in any shot's lines: every shot's


@dataclass(frozen=True)
class Refusal:
    """One thing a model cannot take: where (``file:line:col``), the shot and check's message."""

    where: str
    shot: str
    message: str
    code: str = ""  # the kind of problem (``Diagnostic.stable_code``): what refusals group by


@dataclass(frozen=True)
class ModelPrice:
    """One model's column: the shots it renders, their billed seconds and cost, and refusals."""

    model: str
    shots: int
    seconds: float
    cost: float
    currency: str
    refused: tuple[Refusal, ...]
    provider: str = DASHSCOPE_NAME  # who the model is priced and checked on
    key: str = ""  # the environment variable that provider's key is read from

    @property
    def why_none(self) -> str:
        """Why it renders none of the shots (``""`` when it renders one): a default every shot
        inherits, else the cause that refuses the most shots."""
        if self.renders or not self.shots:
            return ""
        wide = [r for r in self.refused if r.shot == SERIES_WIDE]
        if wide:
            return f"{wide[0].message} ({wide[0].where})"
        code, count = _causes(self.refused).most_common(1)[0]
        cause = next(r.message for r in self.refused if (r.code or r.message) == code)
        return (f"every shot is refused; the most common cause ({count} shot(s)): "
                f"{cause.split(';')[0]}")

    @property
    def refused_shots(self) -> list[str]:
        return sorted({r.shot for r in self.refused})

    @property
    def renders(self) -> int:
        """How many of its shots it renders as the series is written (none when a default it
        cannot take holds every shot)."""
        refused = self.refused_shots
        return 0 if SERIES_WIDE in refused else self.shots - len(refused)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "provider": self.provider, "key": self.key,
                "why_none": self.why_none, "shots": self.shots, "renders": self.renders,
                "billed_seconds": self.seconds,
                "cost": self.cost, "currency": self.currency,
                "refused_shots": self.refused_shots,
                "refused": [{"where": r.where, "shot": r.shot, "message": r.message, "code": r.code}
                            for r in self.refused]}


def _causes(refused: Sequence[Refusal]) -> Counter[str]:
    """How many shots each kind of refusal holds: grouped by its reason (its code), not by its
    words, which name the shot, its board or its references."""
    return Counter(code for _, code in {(r.shot, r.code or r.message) for r in refused})


def models_of(text: str) -> list[str]:
    """``MODEL,MODEL`` into model ids, each known (a snapshot id too), none twice; a retired one
    is left out (``left_out`` says why), and naming none but retired ones is an error."""
    names = _names(text)
    unknown = [n for n in names if model_of(n) is None and retirement(n) is None]
    if not names or unknown:
        raise UsageError(f"--compare: unknown model(s) {', '.join(unknown) or '(none given)'}; "
                         "expected model ids separated by commas (see storyboard models)")
    kept = [n for n in names if retirement(n) is None]
    if not kept:
        raise UsageError(f"--compare: {'; '.join(left_out(text))}; expected a model still "
                         "served (see storyboard models)")
    return kept


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def left_out(text: str) -> list[str]:
    """Why each retired model of ``MODEL,MODEL`` is not compared, a sentence each."""
    found = [r for name in _names(text) if (r := retirement(name)) is not None]
    return [f"{r.sentence()} ({f'successor: {r.successor}' if r.successor else 'no successor'}"
            "): left out" for r in found]


def models_named(path: Path, models: str) -> str:
    """The ``MODEL,MODEL`` a ``--compare`` compares: as given, else the series' own and its
    ``fallbacks:``."""
    return models or declared(load_source(path))


def declared(source: Source) -> str:
    """The series' own model and the ``fallbacks:`` it declares, as ``MODEL,MODEL``."""
    data = source.series.data if isinstance(source.series.data, dict) else {}
    defaults, fallbacks = data.get("defaults"), data.get("fallbacks")
    defaults = defaults if isinstance(defaults, dict) else {}
    fallbacks = fallbacks if isinstance(fallbacks, list) else []
    if not fallbacks:
        raise UsageError("--compare without models needs a fallbacks: list in the series "
                         "(fallbacks: [wan3.0-video, happyhorse-1.1-r2v]); or name them: "
                         "--compare MODEL,MODEL")
    return ",".join([str(defaults.get("model") or DEFAULT_MODEL), *map(str, fallbacks)])


# --- the series moved onto one model ------------------------------------------------------------


def on_model(source: Source, model: str) -> Source:
    """``source`` with every shot on ``model``: the series' ``defaults.model`` set, each episode's
    and each shot's own ``model`` removed. The documents are copies (the originals are kept) and
    carry no parse digest, so no cache reuses what was compiled for the series as it is."""
    series = _copy(source.series)
    defaults = series.data.setdefault("defaults", {}) if isinstance(series.data, dict) else {}
    if isinstance(defaults, dict):
        defaults["model"] = model
    copies = {id(source.series): series}
    episodes = []
    for episode in source.episodes:
        doc = copies.setdefault(id(episode.doc), _copy(episode.doc))
        _unpin(doc.get(episode.path))
        episodes.append(EpisodeSource(doc, episode.path, episode.default_id))
    return replace(source, series=series, episodes=episodes, problems=list(source.problems))


def _copy(doc: Document) -> Document:
    return replace(doc, data=copy.deepcopy(doc.data), digest="")


def _unpin(episode: object) -> None:
    """Drop ``model`` from an episode's ``defaults`` and from each of its shots."""
    if not isinstance(episode, dict):
        return
    for holder in (episode.get("defaults"), *(episode.get("shots") or [])):
        if isinstance(holder, dict):
            holder.pop("model", None)


# --- pricing ------------------------------------------------------------------------------------


def compare_series(path: Path, models: str, provider: str | None = None,
                   episode: str | None = None) -> list[ModelPrice]:
    """The series at ``path`` priced on each of ``models`` (``MODEL,MODEL``; "": its own model
    and its declared ``fallbacks:``) by ``provider``'s prices (the series' ``provider:``; a free
    provider's series by DashScope's list prices)."""
    from storyboard.run.config import provider_name
    from storyboard.run.setup import make_provider

    source = load_source(path)
    unread = [p for p in source.problems if p.severity == "error"]
    if unread:  # a file that does not parse or keep the schema: no model can price it
        raise ProblemsFound(unread)
    if isinstance(source.series.data, dict) and source.series.data.get("variations"):
        raise UsageError(f"--compare prices a series without variations, and {path} has a "
                         "variations matrix: compare a copy with one variation's values in "
                         "its defaults")
    names = models_of(models or declared(source))
    manifest, _ = compile_lenient(source)
    chosen = provider_name(manifest, provider)
    prices = make_provider(manifest, chosen if is_paid(chosen) else DASHSCOPE_NAME).prices
    gateway = chosen if has(chosen, "gateway") else None
    if episode is not None and episode not in {e.id for e in manifest.episodes}:
        raise UsageError(f"--episode {episode}: no such episode in {path}")
    return compare(source, names, prices, episode=episode, provider=gateway)


def compare(source: Source, models: Sequence[str], prices: PriceTable, *,
            episode: str | None = None, provider: str | None = None) -> list[ModelPrice]:
    """Each model's price for the series (or one ``episode``) and what it refuses."""
    return [_price(source, model, prices, episode, provider) for model in models]


def _price(source: Source, model: str, prices: PriceTable, episode: str | None,
           provider: str | None) -> ModelPrice:
    from storyboard.run.setup import reference_seconds

    prices, provider = _home(model, prices, provider)
    manifest, problems = compile_lenient(on_model(source, model), provider=provider)
    shots = [shot for ep in manifest.episodes if episode in (None, ep.id) for shot in ep.shots]
    refused = tuple(_refusal(p, shots) for p in problems if p.severity == "error")
    refused = tuple(r for r in refused if episode is None or r.shot.startswith(f"{episode}/")
                    or r.shot == SERIES_WIDE)
    seconds = reference_seconds(manifest)
    billed = [estimate(take, prices, seconds) for shot in shots for take in shot.all_takes()]
    name = provider or DASHSCOPE_NAME
    return ModelPrice(model, len(shots), round(sum(s for s, _ in billed), 3),
                      round(sum(c for _, c in billed), 4), prices.for_model(model).currency,
                      refused, name, key_variable(name))


def key_variable(provider: str) -> str:
    """The environment variable ``provider``'s key is read from (``""``: it needs none)."""
    from storyboard.dialects import DIALECTS
    dialect = DIALECTS.get(provider)
    return dialect.key_env if dialect is not None else DASHSCOPE_KEY_ENV


def _home(model: str, prices: PriceTable, provider: str | None
          ) -> tuple[PriceTable, str | None]:
    """The prices and provider ``model`` is compared on: the series' own when it sells the model,
    else the target that does (Seedance on ``ark``), at that target's list prices."""
    if family(model) in TARGETS[provider or DASHSCOPE_NAME].models:
        return prices, provider
    seller = next((t for t in TARGETS.values() if family(model) in t.models), None)
    if seller is None:
        return prices, provider
    return next(iter(seller.protocol.prices.values())), seller.name


def _refusal(problem: Diagnostic, shots: Sequence[CompiledShot]) -> Refusal:
    """A problem as a refusal, given to the shot whose lines it falls in (the nearest shot
    above it in its file)."""
    span = problem.span
    where = f"{span.file}:{span.line}:{span.col}" if span is not None else ""
    above = [s for s in shots if span is not None and s.span is not None
             and s.span.file == span.file and s.span.line <= span.line]
    owner = max(above, key=lambda s: s.span.line if s.span else 0, default=None)
    return Refusal(where, owner.shot_id if owner is not None else SERIES_WIDE, problem.message,
                   problem.stable_code)
