"""The studio over real loopback HTTP: its guards, its files, its notes, its watcher.

A StudioServer runs on a copy of the example series (drafts off where a test needs only the check,
so it stays fast); requests go through httpx to the real uvicorn server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.review.notes import add_note, read_notes
from storyboard.review.sheet import build_sheet
from storyboard.review.studio.server import StudioServer
from tests.fixtures import web

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"


@pytest.fixture()
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".storyboard", "out"))
    return copy


@pytest.fixture()
def studio(series: Path) -> Iterator[StudioServer]:
    with StudioServer(series, render_drafts=False, author="Ana Reviewer") as server:
        yield server


def base(server: StudioServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def get(server: StudioServer, path: str, **kw: object) -> httpx.Response:
    return web.get(base(server) + path, timeout=10,
                     **kw)  # type: ignore[arg-type]


def post(server: StudioServer, path: str, body: object, **headers: str) -> httpx.Response:
    return web.post(base(server) + path, content=json.dumps(body), timeout=10,
                      headers={"Content-Type": "application/json", **headers})


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_page_needs_the_token_and_sets_a_same_site_cookie(studio: StudioServer) -> None:
    assert get(studio, "/").status_code == 403
    assert get(studio, "/?token=wrong").status_code == 403
    page = get(studio, f"/?token={studio.token}")
    assert page.status_code == 200 and "storyboard studio" in page.text
    cookie = page.headers["set-cookie"]
    assert studio.token in cookie and "samesite=strict" in cookie.lower() and "httponly" in cookie.lower()
    again = get(studio, "/state", cookies={"storyboard_studio": studio.token})
    assert again.status_code == 200 and again.json()["errors"] == 0


def test_another_host_or_origin_is_refused(studio: StudioServer) -> None:
    """DNS rebinding (a page on evil.example resolving to 127.0.0.1) and other sites' requests."""
    rebound = get(studio, f"/?token={studio.token}", headers={"Host": f"evil.example:{studio.port}"})
    assert rebound.status_code == 421
    other = post(studio, "/notes", {"shot": "ep01/ballad", "text": "x"},
                 **{"X-Studio-Token": studio.token, "Origin": "http://evil.example"})
    assert other.status_code == 403
    assert read_notes(studio.studio.root) == []


def test_a_write_needs_the_token_header_not_only_the_cookie(studio: StudioServer) -> None:
    cookies = {"storyboard_studio": studio.token}
    refused = web.post(base(studio) + "/notes", cookies=cookies, timeout=10,
                         json={"shot": "ep01/ballad", "text": "forged"})
    assert refused.status_code == 403
    assert not (studio.studio.root / "review.yaml").exists()
    done = post(studio, "/notes", {"shot": "ep01/ballad", "text": "warmer light"},
                **{"X-Studio-Token": studio.token})
    assert done.status_code == 200, done.text
    notes = read_notes(studio.studio.root)
    assert [(n.shot, n.text, n.author) for n in notes] == [("ep01/ballad", "warmer light",
                                                            "Ana Reviewer")]
    page = get(studio, f"/sheet?token={studio.token}").text
    assert "warmer light" in page


def test_unexpected_requests_are_refused(studio: StudioServer) -> None:
    token = {"X-Studio-Token": studio.token}
    assert get(studio, f"/nothing?token={studio.token}").status_code == 404
    assert web.put(base(studio) + f"/notes?token={studio.token}", timeout=10).status_code == 405
    assert post(studio, "/notes", ["not", "an", "object"], **token).status_code == 400
    assert post(studio, "/notes", {"shot": "ep01/ballad", "text": "  "}, **token).status_code == 400
    assert post(studio, "/notes", {"shot": "ep01/ballad", "text": "x", "take": -1},
                **token).status_code == 400
    unknown = post(studio, "/notes", {"shot": "ep01/balad", "text": "x"}, **token)
    assert unknown.status_code == 400 and "ep01/ballad" in unknown.json()["error"]
    no_take = post(studio, "/notes", {"shot": "ep01/ballad", "text": "x", "take": 3}, **token)
    assert no_take.status_code == 400 and "ep01/ballad has no take 3" in no_take.json()["error"]
    assert not (studio.studio.root / "review.yaml").exists()
    huge = web.post(base(studio) + "/notes", content=b"x" * 70_000, timeout=10, headers=token)
    assert huge.status_code == 400


def test_files_are_served_only_from_inside_the_series(studio: StudioServer, tmp_path: Path) -> None:
    root = studio.studio.root
    secret = tmp_path / "secret.txt"
    secret.write_text("the neighbour's file")
    (root / "media" / "out-link.txt").symlink_to(secret)
    (root / ".storyboard").mkdir(exist_ok=True)
    (root / ".storyboard" / "journal.txt").write_text("state")
    q = f"?token={studio.token}"
    assert get(studio, f"/file/series/storyboard.yaml{q}").status_code == 200
    for path in ("/file/series/media/out-link.txt", "/file/series/..%2Fsecret.txt",
                 "/file/series/%2e%2e/secret.txt", "/file/series/.storyboard/journal.txt",
                 "/file/elsewhere/storyboard.yaml"):
        answer = get(studio, path + q)
        assert answer.status_code == 404, path
        assert "neighbour" not in answer.text


def test_a_remote_address_is_refused_unless_asked_for(series: Path) -> None:
    with pytest.raises(StoryboardError, match="loopback"):
        StudioServer(series, host="0.0.0.0", render_drafts=False)


def test_a_save_shows_the_new_problem_and_a_file_that_does_not_parse_shows_its_error(
        studio: StudioServer) -> None:
    root = studio.studio.root
    episode = root / "episodes" / "01-first-meeting.yaml"
    good = episode.read_text()
    first = studio.studio.snapshot.version
    episode.write_text(good.replace("    duration: 10", "    duration: 99", 1))
    wait_for(lambda: studio.studio.snapshot.errors > 0)
    assert studio.studio.snapshot.version > first
    assert any("99" in p or "duration" in p for p in studio.studio.snapshot.problems)
    episode.write_text("shots: [unclosed\n")
    wait_for(lambda: any("invalid YAML" in p for p in studio.studio.snapshot.problems))
    page = get(studio, f"/sheet?token={studio.token}").text
    assert "invalid YAML" in page and "ballad" not in page  # its error, not the last good state
    episode.write_text(good)
    wait_for(lambda: studio.studio.snapshot.errors == 0 and studio.studio.snapshot.phase == "check")


def test_text_from_the_series_is_escaped(studio: StudioServer) -> None:
    root = studio.studio.root
    add_note(root, "ep01/ballad", "<script>alert(1)</script>", author="<b>x</b>")
    studio.studio.republish()
    page = get(studio, f"/sheet?token={studio.token}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "<b>x</b>" not in page


def test_events_announce_each_new_version(studio: StudioServer) -> None:
    with web.stream("GET", base(studio) + f"/events?token={studio.token}", timeout=10) as stream:
        lines = stream.iter_lines()
        first = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
        studio.studio.republish()
        second = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
    assert second["version"] == first["version"] + 1


def test_notes_survive_in_review_yaml_and_show_on_the_static_sheet(series: Path,
                                                                   tmp_path: Path) -> None:
    add_note(series, "ep01/ballad", "hold the last frame longer", take=2, author="Bo", now=0)
    text = (series / "review.yaml").read_text()
    assert "hold the last frame longer" in text and "1970-01-01T00:00:00Z" in text
    assert read_notes(series)[0].take == 2
    sheet = build_sheet(series, out=tmp_path / "sheet.html").html.read_text()
    assert "Bo, 1970-01-01T00:00:00Z (take 2): hold the last frame longer" in sheet
    (series / "review.yaml").write_text("notes: {not: a list}\n")
    with pytest.raises(ProblemsFound) as found:
        read_notes(series)
    assert "review.yaml:1:8: error: expected 'notes' to be a list" in found.value.format()


def test_a_note_with_a_lone_surrogate_is_refused_and_the_next_note_and_the_sheet_work(
        studio: StudioServer, tmp_path: Path) -> None:
    token = {"X-Studio-Token": studio.token, "Content-Type": "application/json"}
    body = b'{"shot": "ep01/ballad", "text": "half a pair \\ud800 here"}'
    refused = web.post(base(studio) + "/notes", content=body, headers=token, timeout=10)
    assert refused.status_code == 400 and "lone surrogate" in refused.json()["error"]
    assert not (studio.studio.root / "review.yaml").exists()
    shot = web.post(base(studio) + "/notes", headers=token, timeout=10,
                      content=b'{"shot": "ep01/\\udc80", "text": "x"}')
    assert shot.status_code == 400 and "\\udc80" in shot.json()["error"]
    later = post(studio, "/notes", {"shot": "ep01/ballad", "text": "a later note"},
                 **{"X-Studio-Token": studio.token})
    assert later.status_code == 200, later.text
    assert [n.text for n in read_notes(studio.studio.root)] == ["a later note"]
    built = build_sheet(studio.studio.root, out=tmp_path / "sheet.html").html.read_text()
    assert "a later note" in built


def test_a_nul_in_a_path_is_404_and_a_deeply_nested_body_is_400(studio: StudioServer) -> None:
    q = f"?token={studio.token}"
    for path in ("/file/series/storyboard.yaml%00.png", "/file/draft/%00", "/%00",
                 "/file/series/" + "a" * 5000):
        answer = get(studio, path + q)
        assert answer.status_code == 404, path
    deep = b"[" * 100_000 + b"]" * 100_000
    for content in (b"[" * 30_000 + b"]" * 30_000, b'{"shot": ' + deep[:60_000] + b"}"):
        answer = web.post(base(studio) + "/notes", content=content, timeout=10,
                            headers={"X-Studio-Token": studio.token})
        assert answer.status_code == 400, answer.text
    assert get(studio, "/state" + q).status_code == 200  # still serving


def test_an_out_folder_that_is_a_link_is_never_written_through(series: Path,
                                                               tmp_path: Path) -> None:
    elsewhere = tmp_path / "documents"
    elsewhere.mkdir()
    (series / "out").symlink_to(elsewhere)
    with StudioServer(series, render_drafts=True) as server:
        snap = server.studio.snapshot
        assert snap.phase == "error" and any("is a link" in p for p in snap.problems)
        page = get(server, f"/sheet?token={server.token}").text
        assert "is a link" in page
    assert list(elsewhere.iterdir()) == []
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    render = subprocess.run(
        [sys.executable, "-m", "storyboard", "render", str(series), "--draft", "--yes"],
        capture_output=True, text=True, env=env, timeout=120)
    assert render.returncode == 1, render.stderr
    assert "out is a link" in render.stderr and "Traceback" not in render.stderr
    assert list(elsewhere.iterdir()) == []


@pytest.fixture()
def slow_first_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The studio's first check held until the test lets it go (a big series' first draft),
    with a start limit of one second."""
    from storyboard.review.studio import server as module
    from storyboard.review.studio.state import Studio
    release, refresh = threading.Event(), Studio.refresh

    def held(self: Studio) -> None:
        release.wait(30)
        refresh(self)

    monkeypatch.setattr(Studio, "refresh", held)
    monkeypatch.setattr(module, "START_TIMEOUT", 1.0)
    yield release
    release.set()


def test_the_page_answers_at_once_while_a_long_first_check_runs(
        series: Path, slow_first_check: threading.Event) -> None:
    server = StudioServer(series, render_drafts=False).start(first_draft=False)
    try:
        assert json.loads(get(server, f"/state?token={server.token}").text)["phase"] == \
            "starting"
        slow_first_check.set()
        wait_for(lambda: server.studio.snapshot.phase == "check")
    finally:
        server.stop()


def test_starting_waits_for_a_first_draft_longer_than_the_start_limit(
        series: Path, slow_first_check: threading.Event) -> None:
    threading.Timer(2.0, slow_first_check.set).start()  # twice the start limit
    with StudioServer(series, render_drafts=False) as server:
        assert server.studio.snapshot.phase == "check"


def test_a_folder_that_is_not_a_series_is_refused_like_every_command(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    started = subprocess.run(
        [sys.executable, "-m", "storyboard", "studio", str(tmp_path), "--port", "0"],
        capture_output=True, text=True, env=env, timeout=60)
    assert started.returncode == 2
    assert "no storyboard.yaml in this folder" in started.stderr
    assert "http://" not in started.stderr and "Traceback" not in started.stderr
    with pytest.raises(StoryboardError, match=r"no storyboard\.yaml"):
        StudioServer(tmp_path, render_drafts=False)


@pytest.mark.parametrize(("stop", "drafting"), [(signal.SIGINT, False), (signal.SIGTERM, True)])
def test_ctrl_c_with_an_open_page_stops_within_a_second_saying_only_stopping(
        series: Path, stop: int, drafting: bool) -> None:
    """Ctrl-C (and SIGTERM, as docker stop sends): the page's event stream (a browser's
    EventSource: one request, never answered to its end) is closed first, so uvicorn has nothing
    to wait for or cancel; a draft being stitched is left as a killed run leaves it, silently."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-m", "storyboard", "studio", str(series), "--port", "0"],
        stderr=subprocess.PIPE, text=True, env=env, cwd=series.parent,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert child.stderr is not None
        first = child.stderr.readline()
        assert "storyboard studio: " in first, (  # an empty line: it exited; say why
            f"the first line is not the address: {first!r}", first or child.communicate(timeout=30))
        url = urlsplit(first.split("storyboard studio: ")[1].strip())
        state = f"http://{url.netloc}/state?{url.query}"
        wait_for(lambda: web.get(state, timeout=10).json()["phase"]
                 == "draft", seconds=120)
        with socket.create_connection((url.hostname, url.port), timeout=10) as page:
            page.sendall(f"GET /events?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                         "Accept: text/event-stream\r\n\r\n".encode())
            assert page.recv(4096).startswith(b"HTTP/1.1 200")
            if drafting:
                episode = series / "episodes" / "01-first-meeting.yaml"
                episode.write_text(episode.read_text().replace("soothing", "quiet", 1))
                time.sleep(0.6)  # checked, and the draft under way
            child.send_signal(stop)
            sent = time.monotonic()
            _, err = child.communicate(timeout=30)
            took = time.monotonic() - sent
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert err.strip() == "stopping", err
    assert took < 1.5, f"{took:.2f} s to stop"


def test_an_author_that_is_not_printable_is_refused_at_the_door(series: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    started = subprocess.run(
        [sys.executable, "-m", "storyboard", "studio", str(series), "--port", "0",
         "--author", "Ana\x1b[2J"], capture_output=True, text=True, env=env, timeout=60)
    assert started.returncode == 2 and "expected a name of printable characters" in started.stderr
    assert "\x1b" not in started.stderr and "http://" not in started.stderr


@pytest.mark.parametrize(("name", "text", "said", "code"), [
    ("story.md", "# The tale\n\nOnce upon a time, a fox.\n",
     "story.md is a story, not a series: `storyboard breakdown", 2),  # the PATH: a usage error
    ("notes.yaml", "title: a series without its version\n",
     "error: missing required key 'storyboard'", 1),
])
def test_a_file_that_is_not_a_series_is_refused_as_check_does(tmp_path: Path, name: str, text: str,
                                                              said: str, code: int) -> None:
    """Not served as an empty series: refused before any server starts, as check refuses it."""
    from tests.fixtures.cli import invoke
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = invoke("studio", tmp_path / name, "--port", "0")
    assert result.exit_code == code, result.output
    assert f"{name}" in result.output and said in " ".join(result.output.split())
    assert "http://" not in result.output and "Traceback" not in result.output
    checked = invoke("check", tmp_path / name)
    assert checked.exit_code == code
