"""A command whose extra is missing says which one to install, and exits 2, as the README says:
every command that needs one, with its library hidden as if never installed (issue 97, item 3).
A render that needs the team ledger exited 1, and `cancel --queue` printed a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli as group
from tests.fixtures.example import copy_example

PG = "postgresql://127.0.0.1:1/nowhere"
LEDGER = f"ledger: {PG}\n"
STORE = 'store: {url: "file://STORE"}\n'

# (what the command is typed as, the series' extra line, the libraries hidden, the extra named)
CASES = [
    (["mcp", "{series}"], "", ["mcp"], "mcp"),
    (["export", "{series}"], "", ["opentimelineio"], "export"),
    (["export", "{series}", "--format", "jianying"], "", ["pyJianYingDraft"], "jianying"),
    (["push", "{series}"], STORE, ["fsspec"], "store"),
    (["pull", "{series}"], STORE, ["fsspec"], "store"),
    (["plan", "{series}"], STORE, ["fsspec"], "store"),
    (["sheet", "{series}"], STORE, ["fsspec"], "store"),
    (["render", "{series}", "--provider", "local", "--yes"], STORE, ["fsspec"], "store"),
    (["season", "render", "{series}", "--provider", "local", "--yes"], STORE, ["fsspec"], "store"),
    (["retake", "{series}", "ep01/ballad", "--yes"], STORE, ["fsspec"], "store"),
    (["render", "{series}", "--provider", "local", "--yes"], LEDGER, ["psycopg"], "ledger-pg"),
    (["season", "render", "{series}", "--provider", "local", "--yes"], LEDGER, ["psycopg"],
     "ledger-pg"),
    (["retake", "{series}", "ep01/ballad", "--yes"], LEDGER, ["psycopg"], "ledger-pg"),
    (["queue", "render", "{series}", "--yes"], LEDGER, ["psycopg"], "ledger-pg"),
    (["cancel", "{series}"], LEDGER, ["psycopg"], "ledger-pg"),
    (["status", "{series}", "--queue"], LEDGER, ["psycopg"], "ledger-pg"),
    (["cancel", "--queue", "r1", "--ledger", PG], "", ["procrastinate"], "ledger-pg"),
    (["cancel", "--queue", "r1", "--ledger", PG], "", ["psycopg"], "ledger-pg"),
    (["worker", "--ledger", PG], "", ["procrastinate"], "ledger-pg"),
]


def hide(monkeypatch: pytest.MonkeyPatch, names: list[str]) -> None:
    """Each library (and every module of it already imported) as if not installed."""
    for loaded in [m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in names)]:
        monkeypatch.setitem(sys.modules, loaded, None)
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize(("words", "line", "hidden", "extra"), CASES,
                         ids=[f"{' '.join(c[0][:3])}-{c[2][0]}" for c in CASES])
def test_a_missing_extra_exits_2_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           words: list[str], line: str, hidden: list[str],
                                           extra: str) -> None:
    series = copy_example(tmp_path / "series")
    path = series / "storyboard.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line.replace("STORE", str(tmp_path / "store")), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    hide(monkeypatch, hidden)
    done = CliRunner().invoke(group, [w.replace("{series}", str(series)) for w in words])
    assert isinstance(done.exception, SystemExit), done.exception  # never a traceback
    assert done.exit_code == 2, done.output
    assert f"needs the {extra} extra" in done.output and "add the extra with:" in done.output


# The servers' own modules are imported by this process's fixtures already: these run in a
# process of their own, as a user's would.
SERVERS = [(["studio", "{series}"], ["starlette", "uvicorn", "watchfiles"], "studio"),
           (["emulate"], ["starlette", "uvicorn"], "emulator")]


@pytest.mark.parametrize(("words", "hidden", "extra"), SERVERS, ids=["studio", "emulate"])
def test_a_server_without_its_extra_exits_2_naming_it(tmp_path: Path, words: list[str],
                                                       hidden: list[str], extra: str) -> None:
    series = copy_example(tmp_path / "series")
    argv = ["storyboard", *(w.replace("{series}", str(series)) for w in words)]
    code = (f"import sys; [sys.modules.__setitem__(m, None) for m in {hidden!r}]; "
            f"sys.argv = {argv!r}; from storyboard.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"needs the {extra} extra" in done.stderr, done.stderr
