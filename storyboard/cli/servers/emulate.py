"""The ``emulate`` command into a running protocol emulator (DashScope and every gateway dialect)."""

from __future__ import annotations

import math

import click

from storyboard.cli.common import Seconds, fail
from storyboard.errors import MissingExtra, StoryboardError
from storyboard.targets.wire.gateways import TARGETS

__all__ = ["emulate"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--latency", type=Seconds(), default=2.0, show_default=True,
              help="Seconds from submit to SUCCEEDED.")
@click.option("--api-key", help="Accept only this key (default: any non-empty key).")
@click.option("--plain-results", is_flag=True, help="Results without text (faster).")
@click.option("--fault", "faults", multiple=True,
              help="ENDPOINT:KIND[=ARG]:PROBABILITY, e.g. submit:429:0.2 (repeatable).")
@click.option("--fault-script", "scripts", multiple=True,
              help="Comma-separated faults for the next requests, e.g. query:500,query:drop.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for fault rates.")
@click.option("--max-in-flight", type=click.IntRange(1, 10000),
              help="Answer 429 to a submit past this many tasks in flight per API key.")
@click.option("--dialect", type=click.Choice(list(TARGETS)), default="dashscope",
              show_default=True, help="The API to announce (every dialect is served).")
@click.option("--real-face", "real_faces", multiple=True, metavar="FILE",
              help="A picture's file name (mia.png) Seedance on Ark/ModelArk takes for a real "
                   "person: a submit sending it by URL is refused (repeatable).")
@click.option("--portrait", "portraits", multiple=True, metavar="ID",
              help="An asset id the Ark/ModelArk portrait library holds, Active: sent as "
                   "asset://ID (repeatable).")
@click.option("--no-asset-library", "no_asset_library", is_flag=True,
              help="The Ark/ModelArk account lacks the asset library add-on: every "
                   "control-plane action is answered SubscriptionRequired.")
@click.option("--comfyui", "comfyui", type=int, default=None, metavar="N",
              help="Emulate N ComfyUI servers instead, on PORT, PORT+1 ... (--latency is each "
                   "job's time; --plain-results draws plain videos).")
def emulate(host: str, port: int, latency: float, api_key: str | None, plain_results: bool,
            faults: tuple[str, ...], scripts: tuple[str, ...], seed: int,
            max_in_flight: int | None, dialect: str, real_faces: tuple[str, ...],
            portraits: tuple[str, ...], no_asset_library: bool, comfyui: int | None) -> None:
    """Run a local DashScope (or gateway) emulator, or ComfyUI servers with --comfyui N (for
    tests and dry runs; needs the emulator extra)."""
    if comfyui is not None:
        _emulate_comfyui(host, port, comfyui, latency, plain_results)
        return
    try:
        from storyboard.emulator import EmulatorConfig, parse_fault_options, serve
    except ImportError as exc:
        fail(MissingExtra("storyboard emulate", "emulator", exc.name))
        return
    try:
        plan = parse_fault_options(faults, scripts, seed=seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault/--fault-script") from exc
    config = EmulatorConfig(latency=latency, api_key=api_key, plain_results=plain_results,
                            faults=plan, seed=seed, max_in_flight=max_in_flight,
                            real_faces=real_faces, portraits=portraits,
                            asset_library=not no_asset_library)
    try:
        serve(host, port, config, dialect=dialect,
              announce=lambda url: _announce(dialect, url, keyed=api_key is not None))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    except StoryboardError as exc:  # a busy port: one line, as the studio says it
        fail(exc)


def _emulate_comfyui(host: str, port: int, count: int, latency: float, plain: bool) -> None:
    """``storyboard emulate --comfyui N``: N emulated ComfyUI servers until Ctrl-C."""
    if not 1 <= count <= 16:
        raise click.BadParameter("expected 1..16 servers", param_hint="--comfyui")
    if not (math.isfinite(latency) and latency >= 0):
        raise click.BadParameter("expected seconds >= 0", param_hint="--latency")
    try:
        from storyboard.emulator.comfyui.server import serve as serve_comfyui
        from storyboard.emulator.comfyui.state import ComfyConfig
    except ImportError as exc:
        fail(MissingExtra("storyboard emulate", "emulator", exc.name))
        return
    try:
        serve_comfyui(count, host, port, ComfyConfig(job_time=latency, plain=plain),
                      announce=lambda url: click.echo(f"emulating ComfyUI at {url}"))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    except StoryboardError as exc:
        fail(exc)


def _announce(dialect: str, url: str, *, keyed: bool = False) -> None:
    """Where the emulator listens, and the lines that point a provider at it: its base URL,
    and its key variable (any key unless ``--api-key`` set one, which is never echoed)."""
    from storyboard.dialects import DIALECTS
    from storyboard.providers.dashscope.wire import BASE_URL_ENV, KEY_ENV
    from storyboard.providers.gateway.settings import base_url_env
    from storyboard.targets.kinds import has
    native = has(dialect, "regions")
    variable = BASE_URL_ENV if native else base_url_env(dialect)
    key = KEY_ENV if native else DIALECTS[dialect].key_env
    click.echo(f"emulating {TARGETS[dialect].title} at {url}")
    click.echo(f"export {variable}={url}")
    if keyed:
        click.echo(f"export {key}=...   # the key given with --api-key")
    else:
        click.echo(f"export {key}=emulator   # any key will do: the emulator checks none")
