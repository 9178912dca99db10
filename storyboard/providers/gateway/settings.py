"""A series' ``provider:`` block into a gateway's settings: host, paths, headers, key variable, prices.

Every problem in the block is reported at once. The key is never a setting: ``key_env`` names the
environment variable it comes from (default: the gateway's own, such as ``FREEPIK_API_KEY``). The
host is the block's ``base_url``, else the gateway's ``<NAME>_BASE_URL`` variable
(``FREEPIK_BASE_URL``: points a series at the emulator without editing it), else its public host.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from storyboard.dialects.base import Dialect
from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.providers.account_limits import AccountLimits, read_account_limits
from storyboard.targets import PriceTable, TaskProtocol
from storyboard.targets.cast.arkassets import library

PATHS = ("submit_path", "task_path", "list_path", "content_path")
TEXTS = ("key_env", "auth_header", "webhook_secret_env")
LIBRARY_KEYS = ("assets_url", "access_key_env", "secret_key_env")  # an asset library's (Ark's)
RUNNER_KEYS = ("concurrency", "submit_rate", "poll", "max_wait", "max_download_mb")
KNOWN = ("name", "base_url", "media_base_url", "timeout", "headers", "prices", *PATHS, *TEXTS,
         *RUNNER_KEYS, "account_limits", "tags", *LIBRARY_KEYS)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class GatewaySettings:
    """The ``provider:`` block of a gateway (``name: freepik`` and the like)::

        provider:
          name: freepik
          media_base_url: https://cdn.example.com/my-series   # where the series folder is hosted
          base_url: https://api.freepik.com     # optional for freepik/arrays, needed otherwise
          key_env: FREEPIK_API_KEY              # the variable the key comes from
          auth_header: x-freepik-api-key        # the header it goes in
          headers: {X-Team: video}              # extra headers (never a key)
          submit_path: /v1/ai/reference-to-video/wan-2-7   # and task_path, list_path, content_path
          timeout: 60
          prices: {720P: 0.1, 1080P: 0.15, currency: USD, per: second}
          account_limits: {in_flight: 4, submit_rate: 2}   # the account's, team-wide (as dashscope)

    Ark and ModelArk also make portraits in the account's asset library (``identity: {ark:
    {asset: make}}``): ``assets_url`` (its control plane; default the library's host, or
    ``<NAME>_ASSETS_URL``), ``access_key_env`` and ``secret_key_env`` (the variables of the
    account's key pair; default ``VOLC_ACCESSKEY``/``VOLC_SECRETKEY`` on ark,
    ``BYTEPLUS_ACCESSKEY``/``BYTEPLUS_SECRETKEY`` on modelark).
    """

    dialect: Dialect
    base_url: str
    media_base_url: str | None = None
    key_env: str = ""
    auth_header: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    paths: Mapping[str, str | None] = field(default_factory=dict)
    timeout: float = 60.0
    prices: PriceTable | None = None
    webhook_secret_env: str | None = None
    account_limits: AccountLimits = field(default_factory=AccountLimits)
    library: Mapping[str, str] = field(default_factory=dict)  # assets_url, the key pair's names

    @property
    def protocol(self) -> TaskProtocol:
        """The dialect's protocol with the block's paths."""
        names = {k: v for k, v in self.paths.items() if k != "content_path"}
        return replace(self.dialect.protocol, **names)  # type: ignore[arg-type]

    @property
    def content_path(self) -> str | None:
        return self.paths.get("content_path", self.dialect.content_path)

    def price_table(self) -> PriceTable:
        return self.prices or self.list_prices()

    def list_prices(self) -> PriceTable:
        """The gateway's published prices, whatever the series declares."""
        return next(iter(self.dialect.protocol.prices.values()))

    @classmethod
    def from_mapping(cls, dialect: Dialect, mapping: Mapping[str, Any],
                     environ: Mapping[str, str] | None = None) -> GatewaySettings:
        problems: list[str] = [f"provider.{key}: unknown setting for {dialect.name}; known: "
                               f"{', '.join(KNOWN)}" for key in mapping if key not in KNOWN]
        values: dict[str, Any] = {"key_env": dialect.key_env, "auth_header": dialect.auth_header}
        for name in ("base_url", "media_base_url"):
            _url(mapping, name, values, problems)
        _env_url(dialect, os.environ if environ is None else environ, values, problems)
        values.setdefault("base_url", dialect.base_url)  # "" is refused at preflight, not plan
        _texts(mapping, values, problems)
        _paths(mapping, values, problems)
        _headers(mapping.get("headers"), values, problems)
        _timeout(mapping.get("timeout"), values, problems)
        _prices(mapping.get("prices"), dialect, values, problems)
        read_account_limits(mapping.get("account_limits"), values, problems)
        _library(dialect.name, mapping, os.environ if environ is None else environ, values,
                 problems)
        if problems:
            raise ProblemsFound(Diagnostic(None, p) for p in problems)
        return cls(dialect, **values)


def _library(name: str, mapping: Mapping[str, Any], environ: Mapping[str, str],
             values: dict[str, Any], problems: list[str]) -> None:
    """An asset library's control plane and key pair variables (Ark's, ModelArk's); refused on a
    gateway that has none."""
    own = library(name)
    given = [key for key in LIBRARY_KEYS if key in mapping]
    if own is None:
        problems += [f"provider.{key}: {name} has no asset library (ark and modelark make "
                     "portraits: identity: {ark: {asset: make}})" for key in given]
        return
    found = {"assets_url": environ.get(assets_url_env(name), "").strip() or own.host,
             "access_key_env": own.access_key_env, "secret_key_env": own.secret_key_env}
    for key in given:
        text = mapping[key]
        if key == "assets_url" and not (isinstance(text, str)
                                        and text.startswith(("https://", "http://"))):
            problems.append(f"provider.assets_url: {text!r} is not an http(s) URL")
        elif key != "assets_url" and not (isinstance(text, str) and ENV_NAME.match(text)):
            problems.append(f"provider.{key}: {text!r} is not a variable's name")
        else:
            found[key] = text.rstrip("/") if key == "assets_url" else text
    values["library"] = found


def assets_url_env(name: str) -> str:
    """The variable that overrides an asset library's control plane: ``ARK_ASSETS_URL``."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()) + "_ASSETS_URL"


def _url(mapping: Mapping[str, Any], name: str, values: dict[str, Any],
         problems: list[str]) -> None:
    url = mapping.get(name)
    if url is None:
        return
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        values[name] = url.rstrip("/")
    else:
        problems.append(f"provider.{name}: {url!r} is not an http(s) URL")


def base_url_env(name: str) -> str:
    """The variable that overrides a gateway's host: ``FREEPIK_BASE_URL``, ``OPENAI_VIDEO_BASE_URL``."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()) + "_BASE_URL"


def _env_url(dialect: Dialect, environ: Mapping[str, str], values: dict[str, Any],
             problems: list[str]) -> None:
    """The host from ``<NAME>_BASE_URL`` when the block names none."""
    variable = base_url_env(dialect.name)
    url = environ.get(variable, "").strip()
    if not url or "base_url" in values:
        return
    if url.startswith(("https://", "http://")):
        values["base_url"] = url.rstrip("/")
    else:
        problems.append(f"{variable}: {url!r} is not an http(s) URL")


def _texts(mapping: Mapping[str, Any], values: dict[str, Any], problems: list[str]) -> None:
    for name in TEXTS:
        text = mapping.get(name)
        if text is None:
            continue
        if not isinstance(text, str) or not ENV_NAME.match(text.replace("-", "_")):
            problems.append(f"provider.{name}: {text!r} is not a name")
        else:
            values[name] = text


def _paths(mapping: Mapping[str, Any], values: dict[str, Any], problems: list[str]) -> None:
    paths: dict[str, str] = {}
    for name in PATHS:
        path = mapping.get(name)
        if path is None:
            continue
        needs_id = name in ("task_path", "content_path")
        if not isinstance(path, str) or not path.startswith("/") or (
                needs_id and "{task_id}" not in path):
            what = "a path starting with /" + (" and holding {task_id}" if needs_id else "")
            problems.append(f"provider.{name}: {path!r} is not {what}")
        else:
            paths[name] = path
    values["paths"] = paths


def _headers(value: object, values: dict[str, Any], problems: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        problems.append("provider.headers: give a mapping of header names to text")
        return
    values["headers"] = dict(value)


def _timeout(value: object, values: dict[str, Any], problems: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.append(f"provider.timeout: {value!r} is not a positive number of seconds")
    else:
        values["timeout"] = float(value)


def _prices(value: object, dialect: Dialect, values: dict[str, Any],
            problems: list[str]) -> None:
    """``prices: {720P: 0.1, currency: USD, per: second | generation}`` replaces the list price."""
    if value is None:
        return
    default = next(iter(dialect.protocol.prices.values()))
    if not isinstance(value, Mapping):
        problems.append("provider.prices: give a mapping such as {720P: 0.1, currency: USD}")
        return
    per = value.get("per", default.per)
    if per not in ("second", "generation"):
        problems.append(f"provider.prices.per: {per!r} is not second or generation")
    rates: dict[str, float] = {}
    for name, rate in value.items():
        if name in ("currency", "per"):
            continue
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
            problems.append(f"provider.prices.{name}: {rate!r} is not a price")
        else:
            rates[str(name)] = float(rate)
    values["prices"] = PriceTable(rates or dict(default.per_second),
                                  str(value.get("currency", default.currency)),
                                  per=per if per in ("second", "generation") else default.per)
