"""The shared render store on a folder: settings, layout, atomic pushes, verified pulls, the CLI.

A real folder is a real store (fsspec's local backend, the same code path as a network share).
Renders use the free ``local`` provider with ``--draft`` to stay fast (drafts are stored under
their own cache key and keep their own lock, ``.storyboard/draft.lock``; the committed lock is
exercised with a full render); the S3 protocol, the paid provider and an unreachable store are in
``test_store_s3.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import storyboard
from storyboard.errors import StoreCorrupt, StoreError, StoreUnreachable
from storyboard.providers.local import LocalProvider
from storyboard.run import RunOptions, Wiring
from storyboard.run import render as run_render
from storyboard.run.pipeline import plan_series
from storyboard.run.setup import make_provider, open_store
from storyboard.run.state.lock.lockfile import lock_path
from storyboard.run.team.store import STORE_ENV, RenderStore, StoreSettings, redact, scrub, store_settings
from tests.fixtures.cli import invoke
from tests.fixtures.compiler import write_series

MakeMedia = Callable[..., Path]
# Drafts are stored under their own cache key, apart from full renders ("local-r2-draft").
DRAFT_KEY = LocalProvider(Path("unused"), draft=True).cache_key
FULL_KEY = LocalProvider(Path("unused")).cache_key

HEAD = """\
storyboard: 1
title: Shared
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {poll: [0.05]}
output: {loudness: null}
store: ../../store  # beside the clones of every teammate
voices:
  mia-voice: {audio: media/mia.wav}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
  sam: {video: media/sam.mp4}
  guitar: {image: media/guitar.png}
"""

SHOTS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves at @sam"}
    - {id: b, prompt: "@sam plays @guitar", first_frame: {from: a}}
- id: ep02
  shots:
    - {id: c, prompt: "@mia sings to @sam"}
"""


def report(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def states(data: dict[str, Any]) -> dict[str, str]:
    return {s["key"].rsplit("/", 1)[1]: s["state"] for s in data["shots"]}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clone(series: Path, dest: Path) -> Path:
    """What `git clone` gives a teammate: the series and its lock file, no `.storyboard/`."""
    shutil.copytree(series, dest, ignore=shutil.ignore_patterns(".storyboard"))
    return dest


@pytest.fixture(autouse=True)
def no_env_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.setenv("CI", "1")


@pytest.fixture
def series(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "alice" / "shared", make_media, SHOTS, head=HEAD)


def store_dir(series: Path) -> Path:
    return series.parent.parent / "store"


# --- settings -----------------------------------------------------------------------------------


def test_the_environment_wins_and_folders_resolve(tmp_path: Path) -> None:
    root = tmp_path / "series"
    assert store_settings(None, root, {}) is None
    assert store_settings("../shared", root, {}) == StoreSettings(str(tmp_path / "shared"))
    mapping = {"url": "s3://bucket/team", "options": {"anon": False}}
    assert store_settings(mapping, root, {}) == StoreSettings("s3://bucket/team", {"anon": False})
    chosen = store_settings("../shared", root, {STORE_ENV: "s3://ci-bucket/renders"})
    assert chosen is not None and chosen.url == "s3://ci-bucket/renders"
    assert chosen.origin == STORE_ENV and chosen.options == {}
    assert store_settings("../shared", root, {STORE_ENV: "  "}) == StoreSettings(
        str(tmp_path / "shared"))


def test_urls_and_messages_never_show_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    assert redact("ssh://me:hunter2@host/renders") == "ssh://host/renders"
    assert redact("s3://bucket/prefix") == "s3://bucket/prefix"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-very-secret")
    assert scrub("signature for wJalrXUtnFEMI-very-secret failed") == "signature for *** failed"
    for name in ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_CLIENT_SECRET"):  # adlfs's own
        monkeypatch.setenv(name, f"{name}-value")
        assert scrub(f"auth with {name}-value failed") == "auth with *** failed"


@pytest.mark.parametrize(("store", "fragment"), [
    ("{url: 's3://bucket/p', options: {secret: abc}}", "'secret' is not allowed here: a credential"),
    ("{url: 's3://bucket/p', options: {aws_secret_access_key: x}}", "a credential"),
    ("{url: 's3://bucket/p', options: {password: x}}", "a credential"),
    ("{url: 's3://b/p', options: {client_kwargs: {aws_session_token: x}}}", "a credential"),
    ("'sftp://me:pw@host/renders'", "a password in the URL"),
    ("{url: 'sftp://me:pw@host/renders'}", "a password in the URL"),
    ("{options: {anon: true}}", "missing required key 'url'"),
    ("42", "expected a string"),
])
def test_the_series_file_never_holds_credentials(tmp_path: Path, make_media: MakeMedia,
                                                 store: str, fragment: str) -> None:
    head = HEAD.replace(HEAD.splitlines()[5], f"store: {store}")
    bad = write_series(tmp_path / "bad", make_media, SHOTS, head=head)
    result = invoke("check", bad)
    assert result.exit_code == 1
    line = head.splitlines().index(f"store: {store}") + 1
    assert f"storyboard.yaml:{line}:" in result.stderr, result.stderr
    assert fragment in result.stderr, result.stderr
    assert "pw@" not in result.stderr.replace(f"store: {store}", "")


def test_backend_options_that_are_not_credentials_are_fine(tmp_path: Path,
                                                          make_media: MakeMedia) -> None:
    store = ("{url: 's3://b/p', options: {anon: false, client_kwargs: {region_name: eu-west-1},"
             " config_kwargs: {connect_timeout: 5, retries: {max_attempts: 2}}}}")
    good = write_series(tmp_path / "good", make_media, SHOTS,
                        head=HEAD.replace(HEAD.splitlines()[5], f"store: {store}"))
    result = invoke("check", good)
    assert result.exit_code == 0, result.output


def test_a_missing_backend_names_its_extra(tmp_path: Path) -> None:
    store = RenderStore(StoreSettings("nosuchproto://bucket/x"))
    with pytest.raises(StoreError, match="nosuchproto"):
        store.hashes("local")


# --- layout and atomicity -----------------------------------------------------------------------


def test_push_writes_the_video_then_the_record_and_a_half_push_is_no_hit(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = RenderStore(StoreSettings(str(root)))
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not really a video, but bytes with a sha256")
    digest = sha(video)
    record = {"hash": "h1", "cache_key": "local", "sha256": digest, "size": video.stat().st_size}

    # A push that died after the video and before the record: the video is there, no record.
    (root / "v1" / "videos").mkdir(parents=True)
    shutil.copyfile(video, root / "v1" / "videos" / f"{digest}.mp4")
    (root / "v1" / "tmp").mkdir()
    (root / "v1" / "tmp" / "dead.part").write_bytes(b"half")
    assert store.hashes("local") == set()
    assert store.record("local", "h1") is None

    assert store.push(record, video) is True
    assert store.hashes("local") == {"h1"}
    assert json.loads((root / "v1" / "shots" / "local" / "h1.json").read_text())["sha256"] == digest
    assert store.push(record, video) is False  # already there: nothing written
    assert not list((root / "v1" / "tmp").glob("*.part"))[1:], "a temporary key was left behind"
    out = tmp_path / "pulled.mp4"
    store.pull(digest, out)
    assert out.read_bytes() == video.read_bytes()


def test_a_damaged_record_is_no_hit_and_a_corrupt_video_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = RenderStore(StoreSettings(str(root)))
    video = tmp_path / "v.mp4"
    video.write_bytes(b"original bytes")
    digest = sha(video)
    store.push({"hash": "h1", "cache_key": "local", "sha256": digest, "size": 14}, video)
    (root / "v1" / "shots" / "local" / "h1.json").write_text("{not json")
    assert store.record("local", "h1") is None
    (root / "v1" / "videos" / f"{digest}.mp4").write_bytes(b"tampered bytes")
    with pytest.raises(StoreCorrupt, match="failed its sha256 check"):
        store.pull(digest, tmp_path / "out.mp4")


def test_the_first_record_wins_and_every_pushed_video_stays(tmp_path: Path) -> None:
    """Two people rendered the same shot at once (different bytes): the store keeps the first
    record, and both videos, so a lock file naming either one can still be pulled."""
    store = RenderStore(StoreSettings(str(tmp_path / "store")))
    first, second = tmp_path / "1.mp4", tmp_path / "2.mp4"
    first.write_bytes(b"alice's render")
    second.write_bytes(b"bob's render, other bytes")
    for video in (first, second):
        store.push({"hash": "h1", "cache_key": "dashscope", "sha256": sha(video),
                    "size": video.stat().st_size}, video)
    record = store.record("dashscope", "h1")
    assert record is not None and record.sha256 == sha(first)
    assert store.videos() == {sha(first), sha(second)}
    store.pull(sha(second), tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == second.read_bytes()


def test_a_store_whose_share_is_missing_is_unreachable(tmp_path: Path) -> None:
    store = RenderStore(StoreSettings(str(tmp_path / "not-mounted" / "renders")))
    with pytest.raises(StoreUnreachable, match=r"the folder .*not-mounted.* does not exist"):
        store.hashes("local")
    assert RenderStore(StoreSettings(str(tmp_path / "renders"))).hashes("local") == set()


# --- a team on one machine: render, fresh clone, plan, pull, push --------------------------------


def test_a_clones_status_names_the_shots_its_teammate_put_in_the_store(series: Path,
                                                                      tmp_path: Path) -> None:
    """Bob's journal is empty, the store holds Alice's shots: ``status`` (text and ``--json``)
    and an agent's ``status`` tool name each as made on another machine, never as unrendered;
    once Bob has taken them, his journal shows them and nothing is said made elsewhere."""
    from storyboard.agents.tools import Budget, Tools
    first = invoke("render", series, "--json", "-o", tmp_path / "out-a")
    assert first.exit_code == 0, first.output
    bob = clone(series, tmp_path / "bob" / "shared")
    planned = report(invoke("plan", bob, "--json"))
    keys = sorted(s["key"] for s in planned["shots"] if s["status"] == "store")
    assert len(keys) == len(planned["shots"]) == 3
    said = invoke("status", bob)
    assert said.exit_code == 0 and said.stdout.count("in the shared store, made on another "
                                                     "machine: `render` takes it, free") == 3
    assert sorted(r["key"] for r in report(invoke("status", bob, "--json"))
                  if r["made_elsewhere"] and r["state"] == "store") == keys
    agent = Tools(bob.parent.resolve(), Budget(0.0)).status("shared")
    assert agent["attempts"] == [] and agent["notes"] == [], agent
    assert sorted(s["key"] for s in agent["made_elsewhere"]) == keys
    assert {s["provider"] for s in agent["made_elsewhere"]} == {"local"}
    again = invoke("render", bob, "-o", tmp_path / "out-b")
    assert again.exit_code == 0, again.output
    assert not any(r["made_elsewhere"] for r in report(invoke("status", bob, "--json")))
    assert Tools(bob.parent.resolve(), Budget(0.0)).status("shared")["made_elsewhere"] == []


def test_a_fresh_clone_takes_every_shot_from_the_store(series: Path, tmp_path: Path) -> None:
    first = invoke("render", series, "--draft", "--json", "-o", tmp_path / "out-a")
    assert first.exit_code == 0, first.output
    assert set(states(report(first)).values()) == {"done"}
    records = list((store_dir(series) / "v1" / "shots" / DRAFT_KEY).glob("*.json"))
    assert len(records) == 3
    assert not (store_dir(series) / "v1" / "shots" / FULL_KEY).exists()
    record = json.loads(records[0].read_text())
    assert record["provider"] == "local" and record["cache_key"] == DRAFT_KEY
    assert record["size"] > 0 and record["media"]["width"] > 0 and record["media"]["duration"] > 0
    assert str(series) not in records[0].read_text(), "a local path leaked into the store"

    bob = clone(series, tmp_path / "bob" / "shared")
    planned = report(invoke("plan", bob, "--draft", "--json"))
    assert {s["status"] for s in planned["shots"]} == {"store"}
    assert planned["counts"]["store"] == 3 and planned["total_cost"] == 0
    assert planned["store"] == str(store_dir(series))
    table = invoke("plan", bob, "--draft").stdout
    assert "in store:" in table and "someone" in table  # the table wraps at 80 columns

    full = report(invoke("plan", bob, "--json"))  # a draft is no stand-in for a full render
    assert {s["status"] for s in full["shots"]} == {"new"}

    second = invoke("render", bob, "--draft", "--json", "-o", tmp_path / "out-b")
    assert second.exit_code == 0, second.output
    data = report(second)
    assert set(states(data).values()) == {"cached"}
    assert {s["message"] for s in data["shots"]} == {"in store: rendered by someone else, free"}
    assert not (bob / ".storyboard" / "local").exists(), "bob rendered something himself"
    for name in ("ep01.mp4", "ep02.mp4"):
        assert sha(tmp_path / "out-b" / "draft" / name) == sha(tmp_path / "out-a" / "draft" / name)
    # A draft never writes the committed lock; each clone's draft lock records the same videos.
    assert not (series / "storyboard.lock").exists() and not (bob / "storyboard.lock").exists()
    alice_lock = json.loads(lock_path(series, proxy=True).read_text())["shots"]
    bob_lock = json.loads(lock_path(bob, proxy=True).read_text())["shots"]
    assert len(bob_lock) == 3
    assert {k: v["output_sha256"] for k, v in bob_lock.items()} == {
        k: v["output_sha256"] for k, v in alice_lock.items()}


def test_push_then_pull_sync_explicitly(series: Path, tmp_path: Path) -> None:
    rendered = invoke("render", series, "--draft", "--set", "offline=true", "--json", "-o", tmp_path / "o")
    assert rendered.exit_code == 0
    assert not store_dir(series).exists(), "--offline touched the store"

    bob = clone(series, tmp_path / "bob" / "shared")
    nothing = report(invoke("pull", bob, "--draft", "--json"))
    assert nothing["missing"] and not nothing["done"]

    uploads = store_dir(series) / "v1" / "tmp"  # what killed pushes left: two days, a minute
    uploads.mkdir(parents=True)
    (uploads / "old.part").write_bytes(b"half")
    os.utime(uploads / "old.part", (time.time() - 2 * 86400,) * 2)
    (uploads / "live.part").write_bytes(b"in progress")
    pushed = invoke("push", series, "--draft", "--json")
    assert pushed.exit_code == 0
    assert len(report(pushed)["done"]) == 3
    assert sorted(p.name for p in uploads.iterdir()) == ["live.part"]
    again = invoke("push", series, "--draft")
    assert "0 pushed, 3 already in the store" in again.stdout

    pulled = invoke("pull", bob, "--draft", "--json")
    assert pulled.exit_code == 0 and len(report(pulled)["done"]) == 3
    cache = bob / ".storyboard" / "cache" / DRAFT_KEY
    assert len(list(cache.glob("*.mp4"))) == 3
    assert "3 already here" in invoke("pull", bob, "--draft").stdout
    assert len(storyboard.push(series, draft=True).already) == 3  # the same through the API
    carol = clone(series, tmp_path / "carol" / "shared")
    offline = storyboard.plan(carol, draft=True, offline=True)
    assert {s.status for s in offline.shots} == {"new"} and "offline" in offline.store_note
    assert {s.status for s in storyboard.plan(carol, draft=True).shots} == {"store"}
    assert len(storyboard.pull(carol, draft=True).done) == 3
    rerun = report(invoke("render", bob, "--draft", "--json", "-o", tmp_path / "ob"))
    assert set(states(rerun).values()) == {"cached"}


def test_a_corrupt_stored_video_is_refused_then_rendered_again(series: Path,
                                                              tmp_path: Path) -> None:
    assert invoke("render", series, "--draft", "-o", tmp_path / "o").exit_code == 0
    lock = json.loads(lock_path(series, proxy=True).read_text())["shots"]  # alice's draft lock
    bad_sha = next(v["output_sha256"] for k, v in lock.items() if k.endswith("/ep02/c"))
    blob = store_dir(series) / "v1" / "videos" / f"{bad_sha}.mp4"
    blob.write_bytes(blob.read_bytes()[:-100] + b"\0" * 100)  # same size, other bytes

    bob = clone(series, tmp_path / "bob" / "shared")
    pulled = invoke("pull", bob, "--draft")
    assert pulled.exit_code == 1
    assert "failed its sha256 check" in pulled.stderr and "/ep02/c" in pulled.stderr
    cached = list((bob / ".storyboard" / "cache" / DRAFT_KEY).glob("*.mp4"))
    assert len(cached) == 2, "the refused video entered the cache"

    # The local provider is free, so the refused shot is simply rendered again; the store is
    # repaired with the new render.
    data = report(invoke("render", bob, "--draft", "--json", "-o", tmp_path / "ob"))
    assert states(data) == {"a": "cached", "b": "cached", "c": "done"}
    assert any("failed its sha256 check" in note for note in data["notes"])
    assert sha(blob) == bad_sha, "the store was not repaired"


def test_the_store_is_asked_again_just_before_a_submit(series: Path, tmp_path: Path) -> None:
    """Bob planned while the store was empty; Alice pushed since; Bob's run pays for nothing."""
    bob = clone(series, tmp_path / "bob" / "shared")
    manifest = storyboard.compile(bob)
    provider = make_provider(manifest, "local", draft=True)
    link = open_store(manifest, provider)
    assert link is not None
    planned = plan_series(manifest, provider)  # asks the store (empty now)
    assert {s.status for s in planned.shots} == {"new"}

    assert invoke("render", series, "--draft", "-o", tmp_path / "oa").exit_code == 0
    result = asyncio.run(run_render(manifest, provider, RunOptions(poll_schedule=(0.01,)),
                                    Wiring(store=link)))
    assert {r.state for r in result.shots} == {"cached"}
    assert {r.message for r in result.shots} == {"in store: rendered by someone else, free"}
    assert not (bob / ".storyboard" / "local").exists(), "bob rendered something himself"


def test_a_refused_lock_copy_falls_back_to_the_stores_record(series: Path,
                                                            tmp_path: Path) -> None:
    """Bob's committed lock names a video that is corrupt in the store; the record names a good
    one. A full render: only full renders are in the committed lock."""
    assert invoke("render", series, "-o", tmp_path / "oa").exit_code == 0
    bob = clone(series, tmp_path / "bob" / "shared")
    lock = json.loads((bob / "storyboard.lock").read_text())
    key = next(k for k in lock["shots"] if k.endswith("/ep02/c"))
    good = lock["shots"][key]["output_sha256"]
    bogus = hashlib.sha256(b"a render nobody has").hexdigest()
    (store_dir(series) / "v1" / "videos" / f"{bogus}.mp4").write_bytes(b"rotten bytes")
    lock["shots"][key]["output_sha256"] = bogus
    (bob / "storyboard.lock").write_text(json.dumps(lock))

    pulled = report(invoke("pull", bob, "--json"))
    assert pulled["ok"] and len(pulled["done"]) == 3
    cached = bob / ".storyboard" / "cache" / FULL_KEY
    assert good in {sha(p) for p in cached.glob("*.mp4")}
    assert not (bob / ".storyboard" / "cache" / DRAFT_KEY).exists()
