"""The options the render commands share, declared once: ``render``, ``season render``,
``version render`` and ``queue render`` each take the ones that mean something to it (``plan``
some too). Each option's name is a field of ``run.setup.RenderFlags`` (``renderflags.render_flags``
reads them by name) or the command's own (``renderflags.COMMAND_ONLY``).
"""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli import complete
from storyboard.cli.common import AMOUNT, PROVIDER_CHOICE

__all__ = ["BUDGET", "CONCURRENCY", "DRAFT", "EPISODES", "OFFLINE", "OUT", "PROVIDER", "QUIET",
           "REPLACE_APPROVED", "REPORT_JSON", "SHOTS", "WEBHOOK_LISTEN", "WEBHOOK_URL", "YES"]

PROVIDER = click.option("--provider", type=PROVIDER_CHOICE,
                        help="This provider (default: the series' provider.name, else local).")
DRAFT = click.option("--draft", is_flag=True,
                     help="Low resolution and frame rate proxies (local provider only).")
OFFLINE = click.option("--offline", is_flag=True,
                       help="Do not use the shared store (store: / STORYBOARD_STORE).")
OUT = click.option("-o", "--out", type=click.Path(path_type=Path),
                   help="Folder for the episode files (default: the series' output.dir, else "
                        "out/, inside the series folder).")
YES = click.option("--yes", is_flag=True, help="Accept the planned cost without asking.")
BUDGET = click.option("--budget", type=AMOUNT,
                      help="Refuse to start, or submit more, past this amount.")
CONCURRENCY = click.option("--concurrency", type=click.IntRange(1, 100),
                           help="Tasks in flight at once.")
QUIET = click.option("-q", "--quiet", is_flag=True,
                     help="No progress display and no summary: only what failed is printed.")
REPORT_JSON = click.option("--json", "as_json", is_flag=True,
                           help="Print a JSON report at the end.")
WEBHOOK_LISTEN = click.option("--webhook-listen", metavar="HOST:PORT",
                              help="Take the gateway's status callbacks here (they only hasten "
                                   "polls).")
WEBHOOK_URL = click.option("--webhook-url", help="The public URL that reaches --webhook-listen.")
SHOTS = click.option("--shot", "shots", multiple=True, metavar="EPISODE/SHOT",
                     help="Only this shot's takes (repeatable, globs allowed); re-stitches its "
                          "episode.", shell_complete=complete.shot_paths)
REPLACE_APPROVED = click.option("--replace-approved", is_flag=True,
                                help="Spend on approved shots whose YAML changed (their approval "
                                     "is lifted).")
EPISODES = click.option(
    "--episodes", "episode_range", metavar="RANGE",
    help="Only these episodes, by their number in the series (1 on): 4, 3-10, 3- (3 and every "
         "later one) or a list of them (1,4-6).")
