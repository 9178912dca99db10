"""Shared fixtures: small media made on the fly by ffmpeg test sources (cached per session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storyboard.emulator.render import DRAWINGS_ENV
from storyboard.media import ffbinary, samples
from storyboard.run.state.machinewide import MEASURED_SHARED_ENV
from storyboard.stitch.join.shared import SHARED_ENV
from tests.fixtures import bytecode, pg_server
from tests.fixtures.pg_server import PgServer

# Bytecode is written from the start: ``tests/__init__.py``.

# The pytest fixtures tests share, each in its module of tests/fixtures/ (plain helpers there are
# imported by the tests that use them).
pytest_plugins = [
    "tests.fixtures.dashscope_cli",  # env (the key), emulator (a factory)
    "tests.fixtures.emulator",  # chat_emulator (one a module, as it starts)
    "tests.fixtures.ffmpegs",  # binary (each ffmpeg found, in turn)
    "tests.fixtures.limits",  # dashscope_emulator (one emulator the key and URL point at)
    "tests.fixtures.studio",  # browser (headless Chromium, one a module)
]


MEDIA_ENV = "STORYBOARD_TEST_MEDIA"  # the run's folder of sample media, shared by its workers


@pytest.fixture(scope="session")
def media_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get(MEDIA_ENV, "")
    return Path(named) if named else tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def make_media(media_cache: Path) -> Callable[..., Path]:
    """make_media(kind, name, **kw) -> a path to a fresh copy of a cached sample.

    kind is "image", "video" or "voice"; keyword arguments go to storyboard.samples.
    """

    def make(kind: str, dest: Path, **kwargs: object) -> Path:
        key = f"{kind}-{'-'.join(f'{k}{v}' for k, v in sorted(kwargs.items()))}{dest.suffix}"
        cached = media_cache / key
        if not cached.exists():  # made once a run: whole, renamed into place (workers race)
            made = media_cache / f".{os.getpid()}-{key}"
            getattr(samples, kind)(made, **kwargs)
            os.replace(made, cached)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, dest)
        return dest

    return make


_SESSION_STATE: list[str] = []
# Media facts from the bundled ffmpeg's log, not a system ffprobe's JSON (unless the environment
# names one: ``STORYBOARD_FFPROBE=/usr/bin/ffprobe pytest`` runs the suite through it). Both give
# the same facts (tests/media/test_probe_golden.py holds them to each other, with a real ffprobe), and
# Debian's ffprobe costs about 0.11 s of CPU to start (its shared libraries) against the static
# ffmpeg's 0.02 s: across the suite's thousands of probes, minutes of its 2 cores.
PROBE_FROM_LOG = "none"
RENDERED = ("rendered_example", "rendered_ad")  # session renders: made once, on one worker
# The longest files (half a minute or more of one worker, or one long test: the slowest first),
# handed out first so that the last work dealt is short and no worker ends idle while another
# finishes a long file. A test that mostly waits (killed workers, a database restarted) goes early
# too: at the start its waits overlap the other workers' work; dealt last, they are the suite's tail.
LONGEST_FIRST = (
    "tests/review/test_studio_incremental.py",
    "tests/providers/test_gateway_render.py",
    "tests/run/test_season_life.py",  # a season's life: 1 to 2 minutes of one worker
    "tests/run/test_workers_outages.py",  # one test: 40 s, mostly waiting on kills and restarts
    "tests/run/test_team_ledger.py",
    "tests/run/test_workers.py",
    "tests/run/test_team_pacing.py",
    "tests/run/test_store_s3.py",
    "tests/run/test_store_gcs.py",  # the remote stores: 60 to 70 s each at load 5 to 10
    "tests/run/test_store_azure.py",
    "tests/run/test_store_ssh.py",
    "tests/run/test_team_outages.py",
    "tests/cli/test_cli_version_stale.py",
    "tests/project/test_boards_example.py",
    "tests/breakdown/test_breakdown_season.py",
    "tests/breakdown/test_breakdown_trial.py",
    "tests/project/test_bench_consistency.py",
    "tests/agents/test_mcp_matrix.py",
    "tests/agents/test_mcp_tasks.py",  # ten tests of 15 to 30 s each, under load
    "tests/stitch/test_stitch_rejoin.py",
    "tests/review/test_studio_browser.py",
    "tests/project/test_example_media.py",
    "tests/agents/test_mcp.py",
    "tests/cli/test_cli_dashscope.py",
    "tests/run/test_takes.py",
    "tests/project/test_bench_breakdown_local.py",
    "tests/run/test_workers_turns.py",
    "tests/project/test_example_season.py",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's worker reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that share an expensive set-up share a pytest-xdist worker (``--dist loadgroup``):
    those using a rendered example are one group, and those using a module's shared fixture (a
    server, a browser, a render) one group per module, so each set-up is made once, not once per
    worker. Every other test goes to whichever worker is free. Serial runs ignore the marks.

    On xdist's workers the files of ``LONGEST_FIRST`` come first (in that order, each file's tests
    in their own order): work is handed out in collection order, and a long file dealt last
    leaves the other worker idle at the end. A serial run keeps the files' order."""
    if getattr(config.option, "loadgroup", False):
        rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs if info is not None else {}
        if any(name in defs for name in RENDERED):
            item.add_marker(pytest.mark.xdist_group("rendered-examples"))
        elif any(d.scope == "module" for fixtures in defs.values() for d in fixtures):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


class GroupIds:
    """Each grouped test's id ends in ``@group`` on an xdist worker, as ``--dist loadgroup`` needs.

    The controller schedules by that suffix, which pytest-xdist's worker appends by setting
    ``item._nodeid``; pytest 9.2 keeps the id in ``item._id`` (a structured ``NodeId``) and no
    longer reads ``_nodeid``, so with pytest-xdist 3.8 no group held: each worker made its own
    rendered examples and servers (pytest-xdist#1386). This appends the suffix wherever xdist's
    did not take, after xdist's own hook (``trylast``); with a pytest or an xdist that works, it
    finds the suffix there and does nothing."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if not getattr(config.option, "loadgroup", False):
            return
        for item in items:
            names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                            for mark in item.iter_markers("xdist_group")})
            nodeid = item.nodeid
            if not names or nodeid.rfind("@") > nodeid.rfind("]"):
                continue
            suffixed = f"{nodeid}@{'_'.join(names)}"
            structured = getattr(item, "_id", None)
            if hasattr(structured, "parse"):  # pytest 9.2 and later
                item._id = type(structured).parse(suffixed)
            else:
                item._nodeid = suffixed


def pytest_configure(config: pytest.Config) -> None:
    """Session-wide (module-scoped fixtures run before the per-test one below): no test ever
    touches the real ~/.local/state; grouped tests keep their group on xdist's workers; media
    facts come from the chosen ffmpeg's log (``PROBE_FROM_LOG``); the emulators of the whole run
    (every worker: they inherit the controller's folder) share their drawings of results, and
    its stitches their mezzanines (``STORYBOARD_STITCH_SHARED``) and their files' measurements
    (``STORYBOARD_MEASURED_SHARED``; a test that counts runs shares none:
    ``tests.fixtures.ffmpeg_runs.nothing_remembered``); ``make_media`` makes each sample once a
    run, not once a worker (``MEDIA_ENV``); the test modules' bytecode is written once before
    the workers start, not by each (``bytecode.before_workers``)."""
    config.pluginmanager.register(GroupIds(), "storyboard-xdist-group-ids")
    bytecode.before_workers(config)
    import tempfile
    _SESSION_STATE.append(tempfile.mkdtemp(prefix="storyboard-state-"))
    os.environ["STORYBOARD_STATE_DIR"] = _SESSION_STATE[-1]
    # the run's emulators share their drawings, its series their mezzanines and measurements
    for name, what in ((DRAWINGS_ENV, "drawings"), (SHARED_ENV, "mezzanines"),
                       (MEASURED_SHARED_ENV, "measured"), (MEDIA_ENV, "media")):
        if not os.environ.get(name):
            _SESSION_STATE.append(tempfile.mkdtemp(prefix=f"storyboard-{what}-"))
            os.environ[name] = _SESSION_STATE[-1]
    os.environ.setdefault(ffbinary.FFPROBE_ENV, PROBE_FROM_LOG)


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _SESSION_STATE:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without ``COLUMNS``/``LINES``, as in a pipe, whoever runs it: pytest-xdist's
    workers have ``COLUMNS=80`` in their environment, which would make rich wrap paths in tables
    that a serial run prints whole. A test that wants a width sets it itself."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture(autouse=True)
def own_drawings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's own tests draw every result they ask for (its in-process servers read the
    shared folder at each drawing): only the other tests share the session's drawings."""
    if request.node.nodeid.startswith("tests/emulator/"):
        monkeypatch.delenv(DRAWINGS_ENV, raising=False)


@pytest.fixture(autouse=True)
def user_state_dir(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own per-user ledger (never the real ~/.local/state); child processes
    inherit it through the environment."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def rendered_example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of examples/coffee-shop rendered on the local provider: (series folder, episodes)."""
    import storyboard
    base = tmp_path_factory.mktemp("rendered")
    series = base / "coffee-shop"
    example = Path(__file__).resolve().parent.parent / "examples" / "coffee-shop"
    shutil.copytree(example, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    report = storyboard.render(series, yes=True, out=base / "episodes")
    assert report.ok, report
    return series, base / "episodes"


AD_RENDERED = ("espresso-en-9x16", "latte-en-9x16")  # they share the hook


@pytest.fixture(scope="session")
def rendered_ad(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of examples/ad (a matrix of 7 variations) with two of its variations rendered as
    drafts on the local provider: (series folder, the ``-o`` folder; drafts land in its
    ``draft/<variation>/ad.mp4``)."""
    base = tmp_path_factory.mktemp("rendered-ad")
    series = base / "ad"
    example = Path(__file__).resolve().parent.parent / "examples" / "ad"
    shutil.copytree(example, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    # the command line, in its own process: a browser test's event loop may be running here
    selected = [arg for name in AD_RENDERED for arg in ("--variation", name)]
    done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series), "--draft",
                           "--yes", "-o", str(base / "episodes"), *selected],
                          capture_output=True, text=True, env={**os.environ, "CI": "1"},
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return series, base / "episodes"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgServer]:
    """One throwaway PostgreSQL cluster for the session (initdb in a temp folder, loopback, trust
    auth); stopped and deleted at the end. Never a system cluster."""
    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_pg_cluster() -> Iterator[PgServer]:
    """A PostgreSQL cluster of the test's own, for a test that restarts it (restarting the
    session's would touch other tests)."""
    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_cluster: PgServer) -> str:
    """A URL to a fresh, empty database of the session's cluster."""
    import uuid

    import psycopg
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return pg_cluster.url.rsplit("/", 1)[0] + f"/{name}"
