"""The shared render store over SSH (sshfs), with the paid provider, against a real OpenSSH server.

Debian's sshd runs on 127.0.0.1 with its own config, host key and authorized key
(tests/fixtures/store_servers.py). The user's side is what a user has: a HOME whose ``.ssh/``
holds their key and the server's line in ``known_hosts``; the store is
``ssh://user@127.0.0.1:port/folder``. The DashScope emulator plays the provider and counts every
paid submission. Nothing of SSH or SFTP is mocked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from storyboard.emulator import EmulatorServer
from storyboard.run.team.store import STORE_ENV, RenderStore, StoreSettings
from tests.fixtures import store_cases as cases
from tests.fixtures.store_cases import KEY, Backend, MakeMedia
from tests.fixtures.store_servers import Server, free_port, start_sshd


@pytest.fixture(scope="module")
def sshd() -> Iterator[Server]:
    server = start_sshd()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, sshd: Server) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv("HOME", sshd.extra["home"])  # ~/.ssh: the user's key and known_hosts
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # no agent: the key in ~/.ssh only


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.3, plain_results=True, retry_after=0.1).start()
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    yield server
    server.stop()


@pytest.fixture
def store(sshd: Server, tmp_path: Path) -> Backend:
    """A fresh folder on the server: its store URL (with the user part, which is never
    printed), and an sshfs handle to look inside. The private key is never printed nor
    written anywhere."""
    folder = tmp_path / f"share-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    user = sshd.extra["user"]
    fs = fsspec.filesystem("ssh", host="127.0.0.1", port=sshd.port, username=user,
                           skip_instance_cache=True)
    private = Path(sshd.extra["key"]).read_text().splitlines()[1]  # a line of the key's body
    return Backend(f"ssh://{user}@127.0.0.1:{sshd.port}{folder}/renders", fs,
                   f"{folder}/renders", secrets=(private,), hidden=(f"{user}@127.0.0.1",))


def test_a_fresh_clone_of_the_example_renders_with_no_submission(
        store: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases.a_fresh_clone_renders_with_no_submission(store, tmp_path, monkeypatch)


def test_a_clone_without_the_new_lock_finds_shots_by_their_record(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cases.a_clone_without_the_lock_finds_shots_by_their_record(
        store, tmp_path, make_media, emulator, monkeypatch, f'"{store.url}"')


def test_a_corrupt_stored_video_is_refused_and_paid_again_only_with_consent(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The repair replaces a file that exists (an SFTP rename over it)."""
    cases.a_corrupt_stored_video_is_refused_and_paid_again_only_with_consent(
        store, tmp_path, make_media, emulator, monkeypatch, f'"{store.url}"')


def test_a_server_nobody_answers_at_stops_a_paid_run(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer) -> None:
    dead = f"ssh://127.0.0.1:{free_port()}{store.prefix}"
    cases.a_store_that_does_not_answer_stops_a_paid_run(
        store, tmp_path, make_media, emulator, f'"{dead}"', "cannot open it: ConnectionRefused")


def test_a_server_whose_host_key_is_not_known_is_never_trusted(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch, sshd: Server) -> None:
    """Another host key in known_hosts (a server impersonated): nothing is sent or paid.
    sshfs alone trusts any host key; the store asks it to check ~/.ssh/known_hosts."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    for name in ("id_ed25519", "id_ed25519.pub"):
        (home / ".ssh" / name).write_bytes((Path(sshd.extra["home"]) / ".ssh" / name).read_bytes())
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    other = (Path(sshd.extra["home"]) / ".ssh" / "id_ed25519.pub").read_text()  # not the host's
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{sshd.port} {other}")
    monkeypatch.setenv("HOME", str(home))
    cases.a_store_that_does_not_answer_stops_a_paid_run(
        store, tmp_path, make_media, emulator, f'"{store.url}"',
        "cannot open it: HostKeyNotVerifiable")
    assert not list(store.fs.find(store.prefix)), "something was pushed to an unverified host"


def test_a_folder_whose_parent_does_not_exist_is_no_empty_store(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer) -> None:
    typo = store.url.replace("/renders", "/no-such-share/renders")
    cases.a_missing_bucket_or_folder_is_no_empty_store(
        store, tmp_path, make_media, emulator, f'"{typo}"', "/no-such-share' does not exist")


def test_uploads_a_killed_push_left_are_cleaned_up_by_age(store: Backend) -> None:
    store.fs.makedirs(store.key("tmp"), exist_ok=True)
    store.fs.pipe_file(store.key("tmp", "killed.part"), b"half an upload")
    store.fs.pipe_file(store.key("tmp", "notes.txt"), b"not ours")
    renders = RenderStore(StoreSettings(store.url))
    assert renders.clean_uploads() == []  # seconds old: it may be a live push
    assert renders.clean_uploads(older_than=0) == [store.key("tmp", "killed.part")]
    assert store.fs.ls(store.key("tmp"), detail=False) == [store.key("tmp", "notes.txt")]
