"""A series and the render flags into every effective setting, each with where it came from.

The library behind ``storyboard config``. Each setting is looked up where a render looks it up, in
this order of precedence: a flag of the command, the environment, the series file, the user settings
file (``$XDG_CONFIG_HOME/storyboard/settings.yaml``, by default ``~/.config/storyboard/settings.yaml``),
the built-in default. Not every setting can come from every place: a row says which one it came from.
A key is never shown: only the name of its variable and whether it is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from storyboard.dialects import DIALECTS
from storyboard.errors import StoryboardError, mask_urls
from storyboard.files import series_folder
from storyboard.language.request import Manifest
from storyboard.media import ffbinary
from storyboard.run.state.measured import Thresholds
from storyboard.run.team.ledger import LEDGER_NAME, STATE_DIR_ENV, state_dir
from storyboard.run.team.ledger_pg import LEDGER_ENV, PATIENCE_ENV, ledger_settings
from storyboard.run.team.store import STORE_ENV, store_settings
from storyboard.run.trip.model import RunOptions
from storyboard.stitch.series.episodes import DEFAULT_DIR, output_dir
from storyboard.targets.kinds import KINDS, LOCAL, NAMES, Kind, named

FLAG, ENVIRONMENT, SERIES, USER, DEFAULT = ("flag", "environment", "series file", "user settings",
                                            "default")
SOURCES = (FLAG, ENVIRONMENT, SERIES, USER, DEFAULT)  # the order of precedence
PROVIDERS = NAMES
LOCAL_POLL = (0.01,)  # a local task is finished when its submit returns
MAX_DOWNLOAD_SHOWN = "each shot's own (its model's longest, largest output; wan2.7-r2v: 133)"


@dataclass(frozen=True)
class Setting:
    """One effective setting: its value as shown, the kind of place it came from (``SOURCES``)
    and that place exactly (``--concurrency``, ``STORYBOARD_STORE``, ``provider.region``)."""

    name: str
    value: str
    source: str
    where: str = ""
    raw: Any = field(default=None, compare=False, repr=False)  # the value itself, for a run


@dataclass(frozen=True)
class Flags:
    """The flags of ``render`` that change a setting (None: not given)."""

    provider: str | None = None
    out: Path | None = None
    concurrency: int | None = None
    offline: bool = False
    webhook_listen: str | None = None
    webhook_url: str | None = None


@dataclass
class _Lookup:
    manifest: Manifest
    flags: Flags
    env: Mapping[str, str]
    name: str = LOCAL.name  # the provider a render uses
    rows: list[Setting] = field(default_factory=list)

    def add(self, name: str, value: Any, source: str, where: str = "") -> None:
        shown = "" if value is None else mask_urls(str(value))  # never a URL's ID:SECRET@
        self.rows.append(Setting(name, shown, source, where, value))

    @property
    def block(self) -> dict[str, Any]:
        """The series' settings for this provider: none from a block naming another."""
        return self.manifest.settings_for(self.name)

    def where(self, key: str) -> str:
        """Where the series sets this provider's ``key``: ``provider.KEY``, ``providers.KEY``
        (shared) or ``providers.NAME.KEY``."""
        return self.manifest.setting_where(self.name, key)


def effective(manifest: Manifest, flags: Flags | None = None,
              environ: Mapping[str, str] | None = None) -> list[Setting]:
    """Every setting a ``render`` of ``manifest`` with ``flags`` would use, and its source.

    ``environ`` (default: the process's) answers for the provider's variables, the store and the
    ledger; ffmpeg and the per-user ledger's folder are found as a run finds them."""
    look = _Lookup(manifest, flags or Flags(), os.environ if environ is None else environ)
    name = look.name = _provider(look)
    kind = KINDS[name]
    if kind.regions:
        _dashscope(look)
    elif kind.gateway:
        _gateway(look, name)
    _runner(look, kind)
    if kind.account:
        _account(look, kind)
    _team(look)
    _output(look)
    _checks(look)
    _ffmpeg(look)
    return look.rows


def provider_name(manifest: Manifest, override: str | None) -> str:
    """The provider a render uses: ``--provider``, else the series' ``provider.name``, else local."""
    name = named(manifest.provider, override)
    if name not in PROVIDERS:
        raise StoryboardError(f"unknown provider {name!r}; expected one of: {', '.join(PROVIDERS)}")
    return name


def runner_settings(manifest: Manifest, concurrency: int | None, provider: str) -> list[Setting]:
    """The runner's settings (concurrency, submit rate, polls, longest wait) and their sources:
    what a run uses (``setup.run_options``) and ``storyboard config`` shows, resolved once here."""
    look = _Lookup(manifest, Flags(concurrency=concurrency), {}, provider)
    _runner_values(look, KINDS[provider])
    return look.rows


def _provider(look: _Lookup) -> str:
    name = provider_name(look.manifest, look.flags.provider)
    if look.flags.provider:
        look.add("provider", name, FLAG, "--provider")
    elif look.manifest.provider.get("name"):
        look.add("provider", name, SERIES, "provider.name")
    else:
        look.add("provider", name, DEFAULT)
    return name


def _from_series(look: _Lookup, name: str, key: str, default: Any) -> None:
    """A setting only the series file sets (``provider.KEY``), else its default."""
    if key in look.block:
        look.add(name, look.block[key], SERIES, look.where(key))
    else:
        look.add(name, default, DEFAULT)


def _dashscope(look: _Lookup) -> None:
    from storyboard.providers.dashscope.wire import (
        BASE_URL_ENV,
        KEY_ENV,
        REGIONS,
        WORKSPACE_REGIONS,
        workspace_url,
    )
    _from_series(look, "region", "region", "intl")
    region = str(look.block.get("region", "intl"))
    workspace = look.block.get("workspace")
    if look.block.get("base_url"):  # the series' base_url beats the variable (a workspace host)
        look.add("base_url", look.block["base_url"], SERIES, look.where("base_url"))
    elif isinstance(workspace, str) and workspace and region in WORKSPACE_REGIONS:
        look.add("base_url", workspace_url(workspace, region), SERIES, look.where("workspace"))
    elif look.env.get(BASE_URL_ENV, "").strip():
        look.add("base_url", look.env[BASE_URL_ENV].strip(), ENVIRONMENT, BASE_URL_ENV)
    else:
        look.add("base_url", REGIONS.get(region, ""), DEFAULT, f"the {region} region's host")
    _key(look, "api_key", KEY_ENV, DEFAULT)


def _gateway(look: _Lookup, name: str) -> None:
    dialect = DIALECTS[name]
    _from_series(look, "base_url", "base_url", dialect.base_url or "(none: set provider.base_url)")
    _from_series(look, "media_base_url", "media_base_url", "(none)")
    key_env = str(look.block.get("key_env") or dialect.key_env)
    _key(look, "api_key", key_env, SERIES if look.block.get("key_env") else DEFAULT)
    secret = look.block.get("webhook_secret_env")
    if secret:
        _key(look, "webhook_secret", str(secret), SERIES)


def _key(look: _Lookup, name: str, variable: str, source: str) -> None:
    """A secret: the variable's name and whether it is set, never its value."""
    state = "set" if look.env.get(variable, "").strip() else "not set"
    look.add(name, f"{variable} ({state})", source,
             look.where("key_env") if source == SERIES and name == "api_key" else "")


def _runner(look: _Lookup, kind: Kind) -> None:
    _runner_values(look, kind)
    _webhook(look)


def _runner_values(look: _Lookup, kind: Kind) -> None:
    defaults = RunOptions()
    if look.flags.concurrency is not None:
        look.add("concurrency", look.flags.concurrency, FLAG, "--concurrency")
    else:
        instances = look.block.get("instances")  # comfyui: one job per instance
        each = len(instances) if isinstance(instances, list) and instances else 1
        _from_series(look, "concurrency", "concurrency",
                     each if kind.per_instance else defaults.concurrency)
    _from_series(look, "submit_rate", "submit_rate", defaults.submit_rate)
    poll = LOCAL_POLL if kind.instant else defaults.poll_schedule
    if "poll" in look.block:
        look.add("poll", look.block["poll"], SERIES, look.where("poll"))
    else:
        look.rows.append(Setting("poll", ", ".join(f"{s:g}" for s in poll), DEFAULT, "", poll))
    _from_series(look, "max_wait", "max_wait", defaults.max_wait)
    if "max_download_mb" in look.block:
        look.add("max_download_mb", look.block["max_download_mb"], SERIES,
                 look.where("max_download_mb"))
    else:
        look.rows.append(Setting("max_download_mb", MAX_DOWNLOAD_SHOWN, DEFAULT, "", None))


def _account(look: _Lookup, kind: Kind) -> None:
    """The account's limits, kept across a team's machines (``provider.account_limits``): each
    limit from the series file or its default (the documented query rate, no other limit)."""
    from storyboard.providers.account_limits import AccountLimits, read_account_limits
    given = look.block.get("account_limits")
    values: dict[str, Any] = {}
    read_account_limits(given, values, [])  # a bad value is the provider's error at a render
    limits = values.get("account_limits", AccountLimits())
    given = given if isinstance(given, Mapping) else {}
    default = "DashScope's documented limit" if kind.regions else ""
    for name, unit in (("in_flight", ""), ("submit_rate", " a second"),
                       ("query_rate", " a second")):
        value = getattr(limits, name)
        shown = "(none)" if value is None else f"{value:g}{unit}"
        if name in given:
            look.add(f"account_{name}", shown, SERIES,
                     f"{look.where('account_limits')}.{name}")
        else:
            look.add(f"account_{name}", shown, DEFAULT, default if value is not None else "")
    for model, count in limits.models:
        look.add(f"account_in_flight[{model}]", count, SERIES,
                 f"{look.where('account_limits')}.models.{model}")


def _webhook(look: _Lookup) -> None:
    listen, url = look.flags.webhook_listen, look.flags.webhook_url
    look.add("webhook_listen", listen or "(off)", FLAG if listen else DEFAULT,
             "--webhook-listen" if listen else "")
    shown = url or (f"http://{listen}/" if listen else "(off)")
    look.add("webhook_url", shown, FLAG if url else DEFAULT, "--webhook-url" if url else "")


def _team(look: _Lookup) -> None:
    store = store_settings(look.manifest.store, look.manifest.root, look.env)
    if look.flags.offline:
        look.add("store", "(off)", FLAG, "--offline")
    elif store is None:
        look.add("store", "(none)", DEFAULT)
    else:
        env = store.origin == STORE_ENV
        look.add("store", store.shown, ENVIRONMENT if env else SERIES, store.origin)
    ledger = ledger_settings(look.manifest.ledger, look.env)
    if ledger is not None:
        env = ledger.origin == LEDGER_ENV
        look.add("ledger", ledger.shown, ENVIRONMENT if env else SERIES, ledger.origin)
        given = bool(look.env.get(PATIENCE_ENV, "").strip())
        look.add("ledger_patience", ledger.patience, ENVIRONMENT if given else DEFAULT,
                 PATIENCE_ENV if given else "seconds a dropped ledger connection is made again")
    else:
        _own_ledger(look)


def _own_ledger(look: _Lookup) -> None:
    """The per-user ledger: under ``STORYBOARD_STATE_DIR`` or ``XDG_STATE_HOME`` if set."""
    path = state_dir() / LEDGER_NAME
    for variable in (STATE_DIR_ENV, "XDG_STATE_HOME"):
        if look.env.get(variable, "").strip():
            return look.add("ledger", path, ENVIRONMENT, variable)
    look.add("ledger", path, DEFAULT, "the per-user ledger")


def _output(look: _Lookup) -> None:
    folder = output_dir(look.manifest, look.flags.out)
    if look.flags.out is not None:
        look.add("output_dir", folder, FLAG, "-o/--out")
    elif folder != series_folder(look.manifest.root, look.manifest.root / DEFAULT_DIR):
        look.add("output_dir", folder, SERIES, "output.dir")
    else:  # the series names no output.dir (or names the default one): say so, not the file
        look.add("output_dir", folder, DEFAULT, f"{DEFAULT_DIR}/ inside the series folder")


def _checks(look: _Lookup) -> None:
    """What measuring a take reports: each threshold from the series' ``checks:`` or its
    default (a bad value is shown as written: ``check`` and a render refuse it)."""
    given = look.manifest.checks
    for item in fields(Thresholds):
        name = f"checks.{item.name}"
        if item.name in given:
            look.add(name, given[item.name], SERIES, name)
        elif item.name != "characters":  # none unless given: each calibrated on its pictures
            look.add(name, item.default, DEFAULT, "docs/review.md, Measured takes")


def _ffmpeg(look: _Lookup) -> None:
    try:
        choice = ffbinary.choose()
    except StoryboardError as error:
        return look.add("ffmpeg", f"(none: {error})", DEFAULT)
    chosen = choice.chosen
    if chosen.source == ffbinary.ENV_VAR:
        look.add("ffmpeg", chosen.path, ENVIRONMENT, ffbinary.ENV_VAR)
    elif choice.explicit:
        look.add("ffmpeg", chosen.path, USER, str(ffbinary.settings_file()))
    else:
        look.add("ffmpeg", chosen.path, DEFAULT, chosen.source)


def as_dicts(settings: list[Setting]) -> list[dict[str, str]]:
    return [{k: v for k, v in asdict(s).items() if k != "raw"} for s in settings]
