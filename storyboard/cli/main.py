"""Command lines into library calls: the ``storyboard`` group, its commands, and its exit codes.

Errors are printed as ``file:line:col: error: message`` lines (or one clear sentence) with a non-zero
exit code, never a traceback: 1 when problems were found or a run failed, 2 for a usage error.
"""

from __future__ import annotations

import atexit
import gc
import signal
import sys
from types import FrameType

import click

from storyboard import __version__, stopping
from storyboard.cli import complete
from storyboard.cli.common import error_json, json_wanted
from storyboard.cli.examples import attach
from storyboard.cli.render import commands as render
from storyboard.cli.render.cache import cache
from storyboard.cli.render.task import task
from storyboard.cli.review import sheets as review
from storyboard.cli.review import takes
from storyboard.cli.season.commands import season
from storyboard.cli.servers.emulate import emulate
from storyboard.cli.servers.mcp import mcp
from storyboard.cli.servers.studio import studio
from storyboard.cli.setup.config import config
from storyboard.cli.setup.docs import docs
from storyboard.cli.setup.doctor import doctor
from storyboard.cli.setup.models import models
from storyboard.cli.team.queue import queue
from storyboard.cli.team.store import pull, push
from storyboard.cli.team.worker import cancel, worker
from storyboard.cli.versions.commands import version
from storyboard.cli.writing.breakdown import breakdown
from storyboard.cli.writing.init import init
from storyboard.cli.writing.translate import translate
from storyboard.language.cache import keeping

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="storyboard")
@click.option("-v", "--verbose", is_flag=True,
              help="Show each request to a provider and its answer on stderr, keys masked.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """storyboard: compile YAML storyboards into AI video episodes on many models (Wan, Seedance,
    Kling, MiniMax, HappyHorse) through their vendors, gateways, ComfyUI or the local animatic."""
    if verbose:
        from storyboard.providers.trace import listening
        ctx.with_resource(listening(lambda line: click.echo(line, err=True)))
    ctx.with_resource(keeping.kept(ctx.invoked_subcommand in RECHECKING))


# The commands that check the same series again in their process (on a save, a call, a change):
# their checks keep what they made for the next (``language.cache.keeping``); every other command checks
# once and keeps nothing.
RECHECKING = frozenset({studio.name, mcp.name, worker.name})
for command in (render.check, render.compile_command, render.plan, render.render, render.status,
                cancel, emulate, doctor, init, config, complete.completion, push, pull,
                review.sheet, review.export, studio, mcp, takes.takes, takes.pick, takes.approve,
                takes.retake, cache, task, models, breakdown, translate, docs, worker, season,
                version, queue):
    cli.add_command(command)
attach(cli)  # each command's --help ends with examples


_TERMINATED: list[int] = []  # the SIGTERM that ended this process, if one did


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (``docker stop``, systemd, CI) ends the command as Ctrl-C does: the SIGINT handler
    in place (asyncio's cancels the run, so the journal is flushed); with SIGINT ignored (started
    in the background), the running asyncio work cancelled all the same (``stopping``), else a
    KeyboardInterrupt."""
    _TERMINATED.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _terminate:
        handler(signal.SIGINT, frame)
    elif not stopping.stop():
        raise KeyboardInterrupt


def no_collection_at_exit() -> None:
    """Every object the collector tracks frozen as the command ends (``atexit``): Python's own
    collections at shutdown then walk none of them. A checked series is millions of objects, and
    those collections took a quarter of a second of a fresh ``check`` of 2,000 shots; each object
    is still freed by its reference count, and files and connections are closed as before."""
    gc.freeze()


def main() -> None:
    """The ``storyboard`` command: click's parsing, our exit codes (130 for Ctrl-C, 143 for
    SIGTERM, each after ``interrupted: run the same command again to resume``)."""
    signal.signal(signal.SIGTERM, _terminate)
    atexit.register(no_collection_at_exit)
    try:
        cli.main(standalone_mode=False, complete_var=complete.COMPLETE_VAR)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("interrupted: run the same command again to resume", err=True)
        sys.exit(128 + signal.SIGTERM if _TERMINATED else 130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        if json_wanted(sys.argv[1:]):  # a usage error under --json is JSON on stdout as well
            click.echo(error_json(error.format_message(), error.exit_code))
        error.show()
        sys.exit(error.exit_code)

