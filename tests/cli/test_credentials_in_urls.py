"""Credentials written inside a URL (a ledger, a store, a gateway's address) are never printed.

Six commands (``check``, ``plan``, ``render --draft``, ``status``, ``doctor``, ``config``) run
over a series that names a URL with a user and password in it, from the series or from the
environment: nothing they print (on stdout, on stderr, or as a warning through logging) holds
the credentials or a traceback. Moved from ``tests/language/test_hostile_input.py`` (issue 66,
item 9), where each place ran the command line six times as a process (about 20 s a place on an
idle machine, 75 to 89 s in the full suite); click's runner runs the same commands in the test's
own process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.cli import invoke
from tests.fixtures.compiler import base_series

MakeMedia = Callable[..., Path]

CANARY_ID, CANARY_SECRET = "CANARYID7f3", "CANARYSECRETq9z"
USERINFO = f"{CANARY_ID}:{CANARY_SECRET}@"
URL_PLACES = {
    "series ledger": ({}, f'ledger: "postgresql://{USERINFO}127.0.0.1:1/db"\n'),
    "series store": ({}, f'store: "s3://{USERINFO}bucket/renders"\n'),
    "env ledger": ({"STORYBOARD_LEDGER": f"postgresql://{USERINFO}127.0.0.1:1/db"}, ""),
    "env store": ({"STORYBOARD_STORE": f"s3://{USERINFO}bucket/renders",
                   "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, ""),
    "gateway base url": ({"FREEPIK_API_KEY": "k"}, "provider: {name: freepik, base_url: "
                         f"'http://{USERINFO}127.0.0.1:1/v1', media_base_url: "
                         f"'https://{USERINFO}cdn.example.com/s'}}\n"),
}
COMMANDS = (["check"], ["plan"], ["render", "--yes", "--draft"], ["status"], ["doctor"],
            ["config"])


@pytest.mark.parametrize("place", URL_PLACES)
def test_credentials_inside_urls_are_never_printed(
        tmp_path: Path, make_media: MakeMedia, place: str, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    env, line = URL_PLACES[place]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    root = base_series(tmp_path / "s", make_media)
    text = (root / "storyboard.yaml").read_text().replace("episodes:", line + "episodes:", 1)
    (root / "storyboard.yaml").write_text(text)
    said = [invoke(*command, root).output for command in COMMANDS]  # no traceback in any
    out, err = capfd.readouterr()  # whatever reached the process's own stdout and stderr
    # What logging would print in a process of its own: with no handler set up, Python's last
    # resort writes every record of WARNING and above to stderr.
    logged = [record.getMessage() for record in caplog.records
              if record.levelno >= logging.WARNING]
    everything = "\n".join([*said, out, err, *logged])
    assert "Traceback" not in everything
    assert CANARY_SECRET not in everything and CANARY_ID not in everything, everything
