"""The vendors' model catalogues against the declared models into a report: missing, new, different.

``storyboard models check``: for each wire target with a catalogue (``targets.wire.catalogues``) and a
key in the environment, one GET of its catalogue (free), sent with that target's own key (Kling's:
a short-lived token signed with its secret, as its calls are) to that target's own host (its
declared base URL, or the one given for it), never following a redirect; its ids compared with
the models the target declares. It only reads: nothing is edited, nothing submitted. Each target
not asked says why (no catalogue, no key, no host, an error).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from storyboard import tls
from storyboard.dialects import DIALECTS
from storyboard.targets.signatures import jwtokens
from storyboard.targets.video.models import family
from storyboard.targets.wire.catalogues import Catalogue, catalogue_of, stem
from storyboard.targets.wire.gateways import DASHSCOPE_KEY_ENV, TARGETS, Target

TIMEOUT = 20.0


@dataclass(frozen=True)
class Report:
    """One target's catalogue against its declarations, or why it was not asked."""

    target: str
    why_not: str = ""  # "" when asked
    source: str = ""  # the catalogue declaration's source (``unverified``...)
    listed: int = 0  # how many ids the catalogue gave
    missing: tuple[str, ...] = ()  # declared, not listed
    new: tuple[str, ...] = ()  # listed, of a declared model's family, not declared
    different: tuple[str, ...] = ()  # listed and declared, a fact not the same (a sentence each)

    @property
    def asked(self) -> bool:
        return not self.why_not

    @property
    def differs(self) -> bool:
        return bool(self.missing or self.new or self.different)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "asked": self.asked, "why_not": self.why_not,
                "source": self.source, "listed": self.listed, "missing": list(self.missing),
                "new": list(self.new), "different": list(self.different)}


def check_all(env: Mapping[str, str], hosts: Mapping[str, str]) -> list[Report]:
    """Every target's report, in the declared order (``hosts``: base URLs given by name)."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False,
                      verify=tls.context()) as client:
        return [check_one(client, target, env, hosts.get(target.name, ""))
                for target in TARGETS.values()]


def key_variable(target: str) -> str:
    """The environment variable the target's key is read from."""
    dialect = DIALECTS.get(target)
    return dialect.key_env if dialect is not None else DASHSCOPE_KEY_ENV


def check_one(client: httpx.Client, target: Target, env: Mapping[str, str],
              host: str) -> Report:
    """One target: asked when it has a catalogue, a key and a host; else why not."""
    catalogue = catalogue_of(target.name)
    if catalogue is None:
        return Report(target.name, "no catalogue endpoint declared")
    variable = key_variable(target.name)
    key = env.get(variable, "").strip()
    dialect = DIALECTS.get(target.name)
    base = host or (dialect.base_url if dialect is not None else "")
    secret = env.get(dialect.secret_env, "").strip() if dialect and dialect.secret_env else ""
    for name, value in ((variable, key), (dialect.secret_env if dialect else "", secret)):
        if name and not value:
            return Report(target.name, f"no key ({name} is not set)", catalogue.source)
    if not base:
        return Report(target.name, f"no host: give one with --base-url {target.name}=URL",
                      catalogue.source)
    try:
        header, scheme = (dialect.auth_header, dialect.auth_scheme) if dialect else \
            ("Authorization", "Bearer")
        items = read(client, base, catalogue, jwtokens.sign(key, secret) if secret else key,
                     header, scheme)
    except CatalogueError as exc:
        return Report(target.name, f"error: {exc}", catalogue.source)
    return compare(target, catalogue, items)


class CatalogueError(Exception):
    """A catalogue that could not be read (said without the key)."""


def read(client: httpx.Client, base: str, catalogue: Catalogue, key: str, header: str,
         scheme: str) -> list[Mapping[str, Any]]:
    """The catalogue's items: one GET, the key in the target's own header."""
    url = base.rstrip("/") + catalogue.path
    try:
        answer = client.get(url, headers={header: f"{scheme} {key}".strip()})
    except httpx.HTTPError as exc:
        raise CatalogueError(f"GET {url} failed ({type(exc).__name__})") from exc
    if answer.status_code != 200:
        raise CatalogueError(f"GET {url} answered HTTP {answer.status_code}")
    try:
        items = answer.json().get(catalogue.items)
    except (ValueError, AttributeError) as exc:
        raise CatalogueError(f"GET {url} did not answer a JSON object") from exc
    if not isinstance(items, list):
        raise CatalogueError(f"GET {url} answered no {catalogue.items!r} list")
    return [item for item in items if isinstance(item, Mapping)]


def compare(target: Target, catalogue: Catalogue, items: list[Mapping[str, Any]]) -> Report:
    """The catalogue's ids (a snapshot as its model) against the target's declared models."""
    listed = {str(item.get(catalogue.id_key)): item for item in items
              if item.get(catalogue.id_key)}
    families = {family(name) for name in listed}
    declared = set(target.models)
    stems = {stem(model) for model in declared}
    new = sorted(name for name in listed if family(name) not in declared and stem(name) in stems)
    return Report(target.name, source=catalogue.source, listed=len(listed),
                  missing=tuple(sorted(declared - families)), new=tuple(new),
                  different=tuple(price_differences(target, catalogue, listed)))


def price_differences(target: Target, catalogue: Catalogue,
                      listed: Mapping[str, Mapping[str, Any]]) -> Iterator[str]:
    """Where the catalogue shows prices: each declared rate it shows otherwise."""
    if not catalogue.prices_key:
        return
    table = next(iter(target.protocol.prices.values()))
    for name in sorted(listed):
        shown = listed[name].get(catalogue.prices_key)
        if family(name) not in target.models or not isinstance(shown, Mapping):
            continue
        ours = table.for_model(name)
        for resolution, rate in sorted(ours.per_second.items()):
            theirs = shown.get(resolution)
            if isinstance(theirs, int | float) and abs(float(theirs) - rate) > 1e-9:
                yield (f"{name} {resolution}: declared {ours.currency} {rate:g}, the catalogue "
                       f"says {float(theirs):g}")
