"""A series' ``provider:`` block into DashScope settings: region, base URL, timeouts, prices.

Every problem in the block is reported at once. The key is never a setting: it comes only from the
environment (``DASHSCOPE_API_KEY``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from storyboard.errors import Diagnostic, ProblemsFound, ProviderError
from storyboard.providers.account_limits import AccountLimits, read_account_limits
from storyboard.providers.dashscope.wire import (
    BASE_URL_ENV,
    DASHSCOPE,
    NAME,
    REGIONS,
    WORKSPACE_ID,
    WORKSPACE_REGIONS,
    price_region,
    workspace_url,
)
from storyboard.targets import PriceTable
from storyboard.targets.prices import apply_overrides


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``read`` bounds API calls; uploads and downloads move big files, get their own."""

    connect: float = 10.0
    read: float = 60.0
    upload: float = 300.0
    download: float = 300.0

    def api(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect)

    def transfer(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=self.connect)


SETTING_KEYS = ("name", "region", "workspace", "base_url", "timeout", "use_data_uris_below",
                "concurrency", "submit_rate", "clock_skew", "prices", "account_limits")


@dataclass(frozen=True)
class DashScopeSettings:
    """The series' ``provider:`` block for ``name: dashscope``::

        provider:
          name: dashscope
          region: intl            # intl (Singapore, USD prices) | cn (Beijing, CNY prices) |
                                  #   us (Virginia) | hk (Hong Kong): workspace only, USD prices
          workspace: ws-abc123    # optional: https://ws-abc123.{region's}.maas.aliyuncs.com/api/v1
          base_url: https://...   # optional: any host (the emulator); beats workspace, region and
                                  #   DASHSCOPE_HTTP_BASE_URL
          timeout: 60             # read timeout of API calls, or a mapping:
                                  #   {connect: 10, read: 60, upload: 300, download: 300}
          use_data_uris_below: 0  # bytes: smaller images go inline as data: URIs (0: never)
          concurrency: 4          # tasks in flight at once (for the runner)
          submit_rate: 2          # submits per second at most (for the runner)
          clock_skew: 120         # seconds find() looks back before a lost submit
          account_limits: {in_flight: 4, submit_rate: 2, query_rate: 20,
                           models: {wan3.0-video: {in_flight: 2}}}
                                  # per account (in flight: per model), across the machines
                                  #   of a team ledger
          prices: {720P: 0.10, 1080P: 0.15, currency: USD}   # replaces the list price
                                  #   (wan2.7-r2v's; a model id holds that model's own)

    The key is never a setting: it comes only from ``DASHSCOPE_API_KEY``.
    """

    region: str = "intl"
    workspace: str | None = None  # a workspace id: its host in ``region``; beats the env's host
    base_url: str | None = None  # any host (the emulator); wins over workspace, region and env
    timeouts: Timeouts = field(default_factory=Timeouts)
    use_data_uris_below: int = 0  # images smaller than this many bytes go inline as data: URIs
    # No published limits for this model, so both are settings (spec section 1); the runner
    # reads them (RunOptions.concurrency, RunOptions.submit_rate).
    concurrency: int = 4  # tasks in flight at once
    submit_rate: float = 2.0  # submits per second at most
    clock_skew: float = 120.0  # find() looks this much before the submit time
    prices: PriceTable | None = None  # None: the region's list price
    account_limits: AccountLimits = field(default_factory=AccountLimits)

    def __post_init__(self) -> None:
        problem = _region_problem(self.region, self.workspace, self.base_url)
        problem = problem or _workspace_problem(self.workspace)
        if problem:
            raise ProviderError(problem, provider=NAME)

    def resolved_base_url(self, environ: Mapping[str, str] | None = None) -> str:
        """``base_url``, else the ``workspace``'s host, else ``DASHSCOPE_HTTP_BASE_URL``, else
        the region's public host."""
        env = os.environ if environ is None else environ
        url = (self.base_url or (self.workspace and workspace_url(self.workspace, self.region))
               or env.get(BASE_URL_ENV, "").strip() or REGIONS[self.region])
        return url.rstrip("/")

    def served_region(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The region whose hosts take this series' requests (its public host or a workspace in
        it); None where a host of your own does (``base_url``, ``DASHSCOPE_HTTP_BASE_URL``)."""
        env = os.environ if environ is None else environ
        if self.base_url or (not self.workspace and env.get(BASE_URL_ENV, "").strip()):
            return None
        return self.region

    def host_source(self, environ: Mapping[str, str] | None = None) -> str:
        """Why ``resolved_base_url`` is that host, in words."""
        env = os.environ if environ is None else environ
        if self.base_url:
            return "provider.base_url in the series"
        if self.workspace:
            return f"provider.workspace {self.workspace} in region {self.region}"
        if env.get(BASE_URL_ENV, "").strip():
            return f"the environment's {BASE_URL_ENV}"
        return f"the public host of region {self.region}"

    def price_table(self) -> PriceTable:
        return self.prices or self.list_prices()

    def list_prices(self) -> PriceTable:
        """The published prices of this region's host, whatever the series declares."""
        return DASHSCOPE.prices[price_region(self.region)]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DashScopeSettings:
        """Read a ``provider:`` block; every problem in it is reported at once."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key in mapping:
            if key not in SETTING_KEYS:
                problems.append(f"provider.{key}: unknown setting for dashscope; known: "
                                f"{', '.join(SETTING_KEYS)}")
        if mapping.get("name", NAME) != NAME:
            problems.append(f"provider.name: {mapping['name']!r} is not {NAME!r}")
        _read_region(mapping, values, problems)
        _read_workspace(mapping, values, problems)
        _read_base_url(mapping, values, problems)
        _read_timeout(mapping.get("timeout"), values, problems)
        _read_numbers(mapping, values, problems)
        _read_prices(mapping.get("prices"), mapping.get("region", "intl"), values, problems)
        read_account_limits(mapping.get("account_limits"), values, problems)
        if problems:
            raise ProblemsFound(Diagnostic(None, p) for p in problems)
        return cls(**values)


def _region_problem(region: object, workspace: object, base_url: object) -> str:
    """Why a region cannot be used as given ("" when it can)."""
    if region not in WORKSPACE_REGIONS:
        return f"provider.region: {region!r} is not one of {', '.join(WORKSPACE_REGIONS)}"
    if region not in REGIONS and not workspace and not base_url:
        return (f"provider.region: {region} has no public host, only workspace hosts: set "
                f"provider.workspace (your workspace id) or provider.base_url")
    return ""


def _workspace_problem(workspace: object) -> str:
    if workspace is None or (isinstance(workspace, str) and WORKSPACE_ID.match(workspace)):
        return ""
    return (f"provider.workspace: {workspace!r} is not a workspace id (letters, digits and "
            f"hyphens, as in https://ID.ap-southeast-1.maas.aliyuncs.com)")


def _read_region(mapping: Mapping[str, Any], values: dict[str, Any], problems: list[str]) -> None:
    problem = _region_problem(mapping.get("region", "intl"), mapping.get("workspace"),
                              mapping.get("base_url"))
    if problem:
        problems.append(problem)
    elif "region" in mapping:
        values["region"] = mapping["region"]


def _read_workspace(mapping: Mapping[str, Any], values: dict[str, Any],
                    problems: list[str]) -> None:
    problem = _workspace_problem(mapping.get("workspace"))
    if problem:
        problems.append(problem)
    elif "workspace" in mapping:
        values["workspace"] = mapping["workspace"]


def _read_base_url(mapping: Mapping[str, Any], values: dict[str, Any],
                   problems: list[str]) -> None:
    url = mapping.get("base_url")
    if url is None:
        return
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        values["base_url"] = url
    else:
        problems.append(f"provider.base_url: {url!r} is not an http(s) URL")


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _read_timeout(value: object, values: dict[str, Any], problems: list[str]) -> None:
    """``timeout: 60`` (the read timeout) or ``timeout: {connect, read, upload, download}``."""
    if value is None:
        return
    if isinstance(value, int | float) and _positive(value):
        values["timeouts"] = Timeouts(read=float(value))
        return
    names = ("connect", "read", "upload", "download")
    if not isinstance(value, Mapping):
        problems.append("provider.timeout: give seconds, or a mapping of " + ", ".join(names))
        return
    parts: dict[str, float] = {}
    for name, seconds in value.items():
        if name not in names:
            problems.append(f"provider.timeout.{name}: unknown; known: {', '.join(names)}")
        elif not _positive(seconds):
            problems.append(f"provider.timeout.{name}: {seconds!r} is not a positive number")
        else:
            parts[name] = float(seconds)
    values["timeouts"] = Timeouts(**parts)


def _read_numbers(mapping: Mapping[str, Any], values: dict[str, Any],
                  problems: list[str]) -> None:
    rules: dict[str, tuple[type, float]] = {  # name: (type, smallest allowed)
        "use_data_uris_below": (int, 0), "concurrency": (int, 1),
        "submit_rate": (float, 0.001), "clock_skew": (float, 0)}
    for name, (kind, smallest) in rules.items():
        if name not in mapping:
            continue
        value = mapping[name]
        ok_type = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or value < smallest:
            what = "a whole number" if kind is int else "a number"
            problems.append(f"provider.{name}: {value!r} is not {what} >= {smallest:g}")
        else:
            values[name] = kind(value)


def _read_prices(value: object, region: object, values: dict[str, Any],
                 problems: list[str]) -> None:
    """``prices: {720P: 0.1, 1080P: 0.15, currency: USD}`` replaces wan2.7-r2v's list price; a
    model id holds that model's, ``wan3.0-video: {480P: 0.06}``; the other models keep theirs."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        problems.append("provider.prices: give a mapping such as {720P: 0.1, currency: USD}")
        return
    default = DASHSCOPE.prices.get(price_region(str(region)), DASHSCOPE.prices["intl"])
    table, found = apply_overrides(default, value, "provider.prices", replace_rates=True)
    problems.extend(found)
    values["prices"] = table

