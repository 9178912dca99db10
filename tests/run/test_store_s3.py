"""The shared render store over the S3 protocol, with the paid provider, against real servers.

moto runs in server mode on 127.0.0.1 (a real S3 protocol server; s3fs talks to it over HTTP with
dummy credentials from the environment and ``AWS_ENDPOINT_URL``), and the DashScope emulator plays
the provider, counting every paid submission. Nothing of the object store is mocked. An
unreachable store is a loopback port nobody listens on.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
import s3fs  # type: ignore[import-untyped]
from aiobotocore.session import AioSession  # type: ignore[import-untyped]
from click.testing import CliRunner, Result

from storyboard import compile as compile_series
from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from storyboard.media.probes.probe import sha256_file
from storyboard.providers.dashscope.provider import DashScopeProvider
from storyboard.run import RunOptions, Wiring, read_status, render
from storyboard.run.state.sharing import FROM_STORE, StoreLink
from storyboard.run.team.store import STORE_ENV, RenderStore, StoreSettings
from storyboard.run.trip.download import STORE_NOT_REDOWNLOADED
from tests.fixtures.compiler import write_series
from tests.fixtures.moto_s3 import moto_s3
from tests.fixtures.store_cases import (
    KEY,
    SHOTS,
    as_user,
    clone,
    downloads,
    drawing_emulator,
    example_clone,
    sha,
    states,
    submissions,
)
from tests.fixtures.store_people import people_measured_once

MakeMedia = Callable[..., Path]  # the store's shared helpers: tests/fixtures/store_cases.py
SECRET = "s3-secret-never-written-anywhere"
HEAD = """\
storyboard: 1
title: Wire
defaults: {{resolution: 720P, ratio: "16:9", duration: 2}}
provider: {{name: dashscope, poll: [0.2]}}
output: {{loudness: null}}
store: {{url: "{url}", options: {{config_kwargs: {{connect_timeout: 2}}}}}}
voices:
  mia-voice: {{audio: media/mia.wav}}
characters:
  mia: {{image: media/mia.png, voice: mia-voice}}
  sam: {{video: media/sam.mp4}}
  guitar: {{image: media/guitar.png}}
"""


# --- servers -------------------------------------------------------------------------------------


SEEN: list[str] = []  # each request moto answered in this worker (``asked``)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_s3(SEEN) as url:  # tests/fixtures/moto_s3.py
        yield url


@pytest.fixture(scope="module")
def session() -> AioSession:
    """One botocore session for the module's own handles on the store (``bucket``): each handle
    is still fresh (a client of its own, nothing cached between tests), and botocore's service
    models are read once, not once a handle (about 0.1 s of CPU each)."""
    return AioSession()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, moto_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("CI", "1")
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    # moto answers in this worker's own process: on a loaded machine it can take longer than
    # s3fs's 5 s to accept a connection (a store given its own connect_timeout keeps it)
    monkeypatch.setattr(s3fs.S3FileSystem, "connect_timeout", 30)
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIDSTORYBOARDTEST", "AWS_SECRET_ACCESS_KEY": SECRET,
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto_url,
                        "AWS_MAX_ATTEMPTS": "1",
                        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")
                        }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def bucket(session: AioSession) -> tuple[str, Any]:
    """A fresh bucket: its ``s3://`` URL with a prefix, and an s3fs handle to look inside."""
    name = f"team-{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True, session=session)
    fs.mkdir(name)
    return f"s3://{name}/renders", fs


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.3, plain_results=True, retry_after=0.1).start()
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    yield server
    server.stop()


# --- helpers -------------------------------------------------------------------------------------


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output
    for secret in (KEY, SECRET):
        assert secret not in result.output, "a secret was printed"
    return result


def render_json(series: Path, *args: str | Path) -> tuple[int, dict[str, Any], str]:
    result = invoke("render", series, "--provider", "dashscope", "--json", *args)
    data: dict[str, Any] = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, data, result.stderr










def nothing_secret(*folders: Path, fs: Any = None, url: str = "") -> None:
    for folder in folders:
        for path in (p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            assert KEY.encode() not in data and SECRET.encode() not in data, path
    if fs is not None:
        for key in fs.find(url.removeprefix("s3://")):
            data = fs.cat_file(key)
            assert KEY.encode() not in data and SECRET.encode() not in data, key






def series_with_store(root: Path, make_media: MakeMedia, url: str) -> Path:
    return write_series(root, make_media, SHOTS, head=HEAD.format(url=url))


# --- the example: a fresh clone renders from the store alone ---------------------------------------


def test_a_fresh_clone_of_the_example_renders_with_no_submission(
        tmp_path: Path, bucket: tuple[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    with drawing_emulator(monkeypatch) as emulator:  # four videos of the example's 2 s shots
        fresh_clone_renders(tmp_path, bucket, emulator, monkeypatch)


def fresh_clone_renders(tmp_path: Path, bucket: tuple[str, Any], emulator: EmulatorServer,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    url, fs = bucket
    monkeypatch.setenv(STORE_ENV, url)  # a CI runner's way; the series file stays as it is
    as_user(monkeypatch, tmp_path, "alice")
    alice = example_clone(tmp_path / "alice" / "coffee-shop")
    code, first, _ = render_json(alice, "--yes", "-o", tmp_path / "out-a")
    assert code == 0, first
    assert set(states(first).values()) == {"done"}
    assert submissions(emulator) == 4
    prefix = url.removeprefix("s3://")
    assert len(fs.ls(f"{prefix}/v1/shots/dashscope")) == 4
    assert len(fs.ls(f"{prefix}/v1/videos")) == 4
    assert not fs.exists(f"{prefix}/v1/tmp") or not fs.ls(f"{prefix}/v1/tmp")
    record = json.loads(fs.cat_file(fs.ls(f"{prefix}/v1/shots/dashscope")[0]))
    assert record["provider"] == "dashscope" and record["task_id"] and record["cost"] > 0
    assert record["media"]["width"] == 1280 and record["media"]["height"] == 720
    assert len(fs.ls(f"{prefix}/v1/measured")) == 4  # each take's measurement beside its video

    bob = example_clone(tmp_path / "bob" / "coffee-shop")
    shutil.copyfile(alice / "storyboard.lock", bob / "storyboard.lock")  # git pull
    as_user(monkeypatch, tmp_path, "bob")
    planned = json.loads(invoke("plan", bob, "--provider", "dashscope", "--json").stdout)
    assert planned["counts"]["store"] == 4 and planned["total_cost"] == 0
    if url.startswith("s3://"):  # his status says so, before he renders (once: not per store)
        shown = json.loads(invoke("status", bob, "--provider", "dashscope", "--json").stdout)
        assert sorted((r["key"], r["state"], r["made_elsewhere"]) for r in shown) == sorted(
            (s["key"], "store", True) for s in planned["shots"]), shown
        said = invoke("status", bob, "--provider", "dashscope").stdout
        assert said.count("in the shared store, made on another machine") == 4, said
    code, second, _ = render_json(bob, "-o", tmp_path / "out-b")  # no --yes: nothing to pay
    assert code == 0, second
    assert set(states(second).values()) == {"cached"}
    assert {s["message"] for s in second["shots"]} == {FROM_STORE}
    assert second["spent"] == 0 and second["findings"]["measured"] == []  # none decoded again
    assert submissions(emulator) == 4, "the fresh clone paid for a shot the store had"
    assert emulator.stats()["uploads"] > 0  # alice's run uploaded; bob's sent nothing at all
    for name in ("ep01.mp4", "ep02.mp4"):
        assert sha((tmp_path / "out-b" / name).read_bytes()) == sha(
            (tmp_path / "out-a" / name).read_bytes())
    assert json.loads((bob / "storyboard.lock").read_text()) == json.loads(
        (alice / "storyboard.lock").read_text())
    nothing_secret(alice, bob, fs=fs, url=url)


def test_a_clone_without_the_new_lock_finds_shots_by_their_record(
        tmp_path: Path, make_media: MakeMedia, bucket: tuple[str, Any],
        emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    url, fs = bucket
    as_user(monkeypatch, tmp_path, "alice")
    alice = series_with_store(tmp_path / "alice" / "wire", make_media, url)
    assert render_json(alice, "--yes", "-o", tmp_path / "oa")[0] == 0
    bob = clone(alice, tmp_path / "bob" / "wire", lock=False)  # before alice commits the lock
    as_user(monkeypatch, tmp_path, "bob")
    code, data, _ = render_json(bob, "-o", tmp_path / "ob")
    assert code == 0 and set(states(data).values()) == {"cached"}
    assert submissions(emulator) == 3

    # A half-pushed shot (a video and a leftover upload, but no record) is never a hit.
    prefix = url.removeprefix("s3://")
    fs.pipe_file(f"{prefix}/v1/videos/{'0' * 64}.mp4", b"orphan")
    fs.pipe_file(f"{prefix}/v1/tmp/dead.part", b"half")
    carol = clone(alice, tmp_path / "carol" / "wire", lock=False)
    as_user(monkeypatch, tmp_path, "carol")
    (carol / "storyboard.yaml").write_text((carol / "storyboard.yaml").read_text().replace(
        "@mia sings to @sam", "@mia hums to @sam"))
    planned = json.loads(invoke("plan", carol, "--json").stdout)
    assert {s["key"].rsplit("/", 1)[1]: s["status"] for s in planned["shots"]} == {
        "a": "store", "b": "store", "c": "new"}


def test_the_ledger_takes_a_finished_result_from_the_store_not_the_provider(
        tmp_path: Path, make_media: MakeMedia, bucket: tuple[str, Any],
        emulator: EmulatorServer) -> None:
    """Alice deletes `.storyboard/`: her ledger knows the finished tasks and the store has their
    videos. The store's copy (sha256 verified) is taken; the provider is asked for nothing. A
    stored copy that fails its check is refused and the shot downloaded again from her own task
    (free), which also repairs the store."""
    url, fs = bucket
    alice = series_with_store(tmp_path / "alice" / "wire", make_media, url)
    assert render_json(alice, "--yes", "-o", tmp_path / "oa")[0] == 0
    assert submissions(emulator) == 3
    fetched = downloads(emulator)
    lock = json.loads((alice / "storyboard.lock").read_text())

    shutil.rmtree(alice / ".storyboard")
    code, data, _ = render_json(alice, "-o", tmp_path / "ob")  # no --yes: nothing to pay
    assert code == 0, data
    assert set(states(data).values()) == {"cached"}
    assert {s["message"] for s in data["shots"]} == {FROM_STORE}
    assert (submissions(emulator), downloads(emulator)) == (3, fetched)
    rows = read_status(alice)
    assert len(rows) == 3 and {r.state for r in rows} == {"done"}
    assert {r.note for r in rows} == {STORE_NOT_REDOWNLOADED}
    assert json.loads((alice / "storyboard.lock").read_text()) == lock

    good = next(v["output_sha256"] for k, v in lock["shots"].items() if k.endswith("/c"))
    key = f"{url.removeprefix('s3://')}/v1/videos/{good}.mp4"
    original = fs.cat_file(key)
    fs.pipe_file(key, original[:-64] + b"\0" * 64)
    shutil.rmtree(alice / ".storyboard")
    code, data, _ = render_json(alice, "-o", tmp_path / "oc")
    assert code == 0, data
    assert states(data) == {"a": "cached", "b": "cached", "c": "done"}
    assert (submissions(emulator), downloads(emulator)) == (3, fetched + 1)
    assert fs.cat_file(key) == original, "the store was not repaired"


# --- a corrupt object --------------------------------------------------------------------------------


def test_a_corrupt_stored_video_is_refused_and_paid_again_only_with_consent(
        tmp_path: Path, make_media: MakeMedia, bucket: tuple[str, Any],
        emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    url, fs = bucket
    as_user(monkeypatch, tmp_path, "alice")
    alice = series_with_store(tmp_path / "alice" / "wire", make_media, url)
    assert render_json(alice, "--yes", "-o", tmp_path / "oa")[0] == 0
    # Bob is another machine: his per-user ledger does not know Alice's tasks (one that did
    # would download her task's result again, for free, instead of paying).
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(tmp_path / "bob-state"))
    lock = json.loads((alice / "storyboard.lock").read_text())["shots"]
    good = next(v["output_sha256"] for k, v in lock.items() if k.endswith("/c"))
    key = f"{url.removeprefix('s3://')}/v1/videos/{good}.mp4"
    original = fs.cat_file(key)
    fs.pipe_file(key, original[:-64] + b"\0" * 64)  # bit rot: same size, other bytes

    bob = clone(alice, tmp_path / "bob" / "wire")
    as_user(monkeypatch, tmp_path, "bob")
    pulled = invoke("pull", bob)
    assert pulled.exit_code == 1
    assert "failed its sha256 check" in pulled.stderr and "wire/ep02/c" in pulled.stderr
    assert "2 pulled" in pulled.stdout

    code, data, _ = render_json(bob, "-o", tmp_path / "ob")  # no consent to pay
    assert code == 1
    assert states(data) == {"a": "cached", "b": "cached", "c": "failed"}
    failed = next(s for s in data["shots"] if s["state"] == "failed")
    assert failed["code"] == "StoreCorrupt" and "--yes" in failed["message"]
    assert submissions(emulator) == 3

    code, data, _ = render_json(bob, "--yes", "-o", tmp_path / "ob")
    assert code == 0, data
    assert states(data)["c"] == "done"
    assert any("failed its sha256 check" in note for note in data["notes"])
    assert submissions(emulator) == 4
    new = json.loads((bob / "storyboard.lock").read_text())["shots"]
    repaired = next(v["output_sha256"] for k, v in new.items() if k.endswith("/c"))
    stored = fs.cat_file(f"{url.removeprefix('s3://')}/v1/videos/{repaired}.mp4")
    assert sha(stored) == repaired, "the store was not repaired"
    nothing_secret(alice, bob, fs=fs, url=url)


# --- an unreachable store ------------------------------------------------------------------------


def test_an_unreachable_store_stops_before_paying_unless_offline(
        tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    series = series_with_store(tmp_path / "wire", make_media, "s3://team/renders")

    code, data, err = render_json(series, "--yes", "-o", tmp_path / "o")
    assert code == 1 and data["exit_code"] == 1  # a failing --json run still answers in JSON
    assert "s3://team/renders: cannot list the shots" in data["error"]
    assert "s3://team/renders: cannot list the shots" in err
    assert "nothing was submitted" in err and "--set offline=true" in err
    assert submissions(emulator) == 0 and read_status(series) == []

    plan = invoke("plan", series)
    assert plan.exit_code == 0 and "cannot list the shots" in plan.stderr

    code, data, err = render_json(series, "--yes", "--set", "offline=true", "-o", tmp_path / "o")
    assert code == 0 and set(states(data).values()) == {"done"}
    assert submissions(emulator) == 3

    # Everything is cached now: nothing would be paid, so the run says so and goes on locally.
    result = invoke("render", series, "--provider", "dashscope", "-o", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "cannot list the shots" in result.stderr
    assert submissions(emulator) == 3

    pushed = invoke("push", series)
    assert pushed.exit_code == 1 and "cannot list the shots" in pushed.stderr


def test_push_and_pull_carry_each_takes_measurement(
        tmp_path: Path, make_media: MakeMedia, bucket: tuple[str, Any], emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendered offline (measured, nothing pushed), then ``storyboard push``: the measurements
    go up beside the videos, and a teammate's ``storyboard pull`` keeps them, decoding nothing."""
    url, fs = bucket
    as_user(monkeypatch, tmp_path, "alice")
    alice = series_with_store(tmp_path / "alice" / "wire", make_media, url)
    code, data, _ = render_json(alice, "--yes", "--set", "offline=true", "-o", tmp_path / "oa")
    assert code == 0 and len(data["findings"]["measured"]) == 3
    prefix = url.removeprefix("s3://")
    assert not fs.exists(f"{prefix}/v1/measured")
    assert invoke("push", alice).exit_code == 0
    kept = sorted(p for p in (alice / ".storyboard" / "measured").glob("*.json")
                  if not p.name.endswith(".people.json"))  # who is in it: under v1/people
    assert sorted(k.rsplit("/", 1)[1] for k in fs.ls(f"{prefix}/v1/measured")) == [
        p.name for p in kept]
    bob = clone(alice, tmp_path / "bob" / "wire")
    as_user(monkeypatch, tmp_path, "bob")
    assert invoke("pull", bob).exit_code == 0
    assert [(bob / ".storyboard" / "measured" / p.name).read_bytes() for p in kept] == [
        p.read_bytes() for p in kept]
    people = sorted(p.name for p in (alice / ".storyboard" / "measured").glob("*.people.json"))
    assert len(people) == 5  # three takes (their light: no face in their pictures), two pictures
    assert sorted(k.rsplit("/", 1)[1] for k in fs.ls(f"{prefix}/v1/people")) == [
        n.replace(".people.json", ".json") for n in people]
    assert sorted(p.name for p in (bob / ".storyboard" / "measured").glob("*.people.json")) == people
    code, data, _ = render_json(bob, "-o", tmp_path / "ob")
    assert code == 0 and data["findings"]["measured"] == [] and submissions(emulator) == 3


def test_a_teammates_fresh_clone_measures_no_one_again_from_s3(
        tmp_path: Path, bucket: tuple[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/fixtures/store_people.py's check: people measured once a team, on S3."""
    url, fs = bucket
    people_measured_once(f'"{url}"', lambda: fs.ls(f"{url.removeprefix('s3://')}/v1/people",
                                                   detail=False), tmp_path, monkeypatch)


def test_a_bucket_that_does_not_exist_is_no_empty_store(tmp_path: Path, make_media: MakeMedia,
                                                        bucket: tuple[str, Any]) -> None:
    url, _ = bucket
    typo = url.replace("team-", "taem-")
    series = series_with_store(tmp_path / "wire", make_media, typo)
    code, data, err = render_json(series, "--yes", "-o", tmp_path / "o")
    assert code == 1 and data["exit_code"] == 1 and "does not exist" in data["error"]
    assert "the bucket 'taem-" in err and "does not exist" in err and "--set offline=true" in err
    planned = json.loads(invoke("plan", series, "--json").stdout)
    assert "does not exist" in planned["store_note"]
    assert {s["status"] for s in planned["shots"]} == {"new"}


def test_a_store_that_stops_answering_mid_run_never_pays_for_what_it_holds(
        tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    series = series_with_store(tmp_path / "wire", make_media, "s3://team/renders")
    manifest = compile_series(series)
    shots = {s.id: s for s in manifest.shots()}
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    link = StoreLink(RenderStore(StoreSettings("s3://team/renders")), "dashscope",
                     rerender_refused=True)
    link.seen.add(shots["a"].hash)  # the plan's listing said the store has shot a

    async def go() -> Any:
        provider = DashScopeProvider.from_settings({"name": "dashscope"})
        try:
            return await render(manifest, provider, RunOptions(poll_schedule=(0.2,)),
                                Wiring(store=link))
        finally:
            await provider.aclose()

    result = asyncio.run(go())
    by_shot = {r.shot: r for r in result.shots}
    assert by_shot["a"].state == "failed" and by_shot["a"].code == "StoreUnreachable"
    assert "not paid for again" in by_shot["a"].message and "--offline" in by_shot["a"].message
    assert by_shot["b"].state == "done" and by_shot["c"].state == "done"
    assert submissions(emulator) == 2
    for key in ("wire/ep01/b:", "wire/ep02/c:"):  # what the run did, and could not push
        mine = [n for n in result.notes if n.startswith(key)]
        assert any("rendering it" in n for n in mine), result.notes
        assert any("not pushed" in n and "storyboard push" in n for n in mine), result.notes
    assert not [n for n in result.notes if "/a:" in n], "a was neither rendered nor pushed"


def test_uploads_a_killed_push_left_are_cleaned_up_by_age(bucket: tuple[str, Any]) -> None:
    url, fs = bucket
    name = url.removeprefix("s3://")
    fs.pipe_file(f"{name}/v1/tmp/killed.part", b"half an upload")
    fs.pipe_file(f"{name}/v1/tmp/notes.txt", b"not ours")
    store = RenderStore(StoreSettings(url))
    assert store.clean_uploads() == []  # a minute old: it may be a live push
    assert store.clean_uploads(older_than=0) == [f"{name}/v1/tmp/killed.part"]
    assert fs.ls(f"{name}/v1/tmp", detail=False) == [f"{name}/v1/tmp/notes.txt"]


def asked(then: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What ``then`` returns, and the requests the store answered while it ran."""
    SEEN.clear()
    return then(), list(SEEN)


def test_a_push_and_a_read_ask_the_store_only_what_they_need(tmp_path: Path,
                                                              bucket: tuple[str, Any]) -> None:
    """Each request is a round trip a user waits for and pays for: a small object is read in
    one request (s3fs would ask its size first, and where it is missing list its folder too),
    and an upload is placed by one copy and one delete (fsspec's ``mv`` looks it up and lists
    both places first, and the upload was looked up again after it was gone), and whether a
    video or a measurement is stored is one request (s3fs's ``exists`` asks for its head and,
    where it is missing, lists its folder too): 20 requests a shot's push before, 10 now."""
    url, fs = bucket
    video = tmp_path / "take.mp4"
    video.write_bytes(b"a video's bytes" * 64)
    sha = sha256_file(video)
    record = {"sha256": sha, "cache_key": "dashscope", "hash": "h1", "size": 960}
    store = RenderStore(StoreSettings(url))
    store.videos()  # the backend opened: its first requests (the bucket's region) not counted
    wrote, pushed = asked(lambda: store.push(record, video))
    assert wrote and len(pushed) <= 10, pushed
    assert pushed[0].startswith("GET ") and pushed[0].endswith(f"/v1/videos/{sha}.mp4"), pushed
    looked = [r.split("/v1/tmp/")[1] for r in pushed if "/v1/tmp/" in r and r[:4] != "PUT "]
    assert len(looked) == len(set(looked)) == 2, pushed  # each upload once, by its copy
    found, read = asked(lambda: store.record("dashscope", "h1"))
    assert found is not None and found.sha256 == sha
    assert read == [f"GET /{url.removeprefix('s3://')}/v1/shots/dashscope/h1.json"], read
    missing, read = asked(lambda: store.measurement(sha))
    assert missing is None and len(read) == 1, read
    name = url.removeprefix("s3://")
    assert not fs.exists(f"{name}/v1/tmp")  # each upload removed once placed
    fs.pipe_file(f"{name}/v1/shots/dashscope/h2.json", b"")  # an empty record: no hit
    assert store.record("dashscope", "h2") is None
    for there, sha256 in ((True, sha), (False, "0" * 64)):
        for lookup in (store.has_video, store.has_measurement):
            found, read = asked(lambda: lookup(sha256))  # noqa: B023 (called at once)
            assert found is (there and lookup == store.has_video) and len(read) == 1, read
    fs.pipe_file(f"{name}/v1/videos/{'e' * 64}.mp4", b"")  # S3 refuses a range of nothing
    assert store.has_video("e" * 64) and not store.has_video("f" * 64)
