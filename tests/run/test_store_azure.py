"""The shared render store on Azure Blob Storage (adlfs), with the paid provider, against Azurite.

Azurite (Microsoft's storage emulator, the npm package, run with the machine's node) serves the
blob service on 127.0.0.1 (tests/fixtures/store_servers.py). The user's side is what a user
exports: ``AZURE_STORAGE_CONNECTION_STRING`` with the emulator's development account (its key is
public, documented by Microsoft for the emulator, and still treated as a secret: never printed
nor written). The store is ``az://container/prefix``. The DashScope emulator plays the provider
and counts every paid submission. Nothing of the object store is mocked.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from storyboard.emulator import EmulatorServer
from storyboard.run.team.store import STORE_ENV, RenderStore, StoreSettings
from tests.fixtures import store_cases as cases
from tests.fixtures.store_cases import KEY, Backend, MakeMedia
from tests.fixtures.store_servers import AZURITE_KEY, Server, start_azurite

CONNECTION = "AZURE_STORAGE_CONNECTION_STRING"


@pytest.fixture(scope="module")
def azurite() -> Iterator[Server]:
    server = start_azurite()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, azurite: Server) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv(CONNECTION, azurite.extra["connection_string"])
    for name in (STORE_ENV, "DASHSCOPE_HTTP_BASE_URL", "AZURE_STORAGE_ACCOUNT_NAME",
                 "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.3, plain_results=True, retry_after=0.1).start()
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    yield server
    server.stop()


@pytest.fixture
def store(azurite: Server) -> Backend:
    """A fresh container: its ``az://`` URL with a prefix, and an adlfs handle to look inside."""
    name = f"team-{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("az", skip_instance_cache=True)  # the connection string, from the env
    fs.mkdir(name)
    return Backend(f"az://{name}/renders", fs, f"{name}/renders",
                   secrets=(AZURITE_KEY, azurite.extra["connection_string"]))


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
    cases.a_corrupt_stored_video_is_refused_and_paid_again_only_with_consent(
        store, tmp_path, make_media, emulator, monkeypatch, f'"{store.url}"')


def test_a_wrong_account_key_stops_a_paid_run(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch, azurite: Server) -> None:
    """Wrong credentials (another key for the account) are a store that is down, never an empty
    one; the wrong key is not printed either. (An endpoint nobody answers at takes azure-storage's
    retries, about 85 s here, which adlfs offers no option to shorten: S3's test proves the
    run's side of it.)"""
    wrong = base64.b64encode(b"not the account's key, 64 bytes long, as an account key is!!!!!")
    monkeypatch.setenv(CONNECTION, azurite.extra["connection_string"].replace(
        AZURITE_KEY, wrong.decode()))
    store.secrets = (*store.secrets, wrong.decode())
    cases.a_store_that_does_not_answer_stops_a_paid_run(
        store, tmp_path, make_media, emulator, f'"{store.url}"', "cannot list the shots")


def test_a_container_that_does_not_exist_is_no_empty_store(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer) -> None:
    typo = store.url.replace("team-", "taem-")
    cases.a_missing_bucket_or_folder_is_no_empty_store(
        store, tmp_path, make_media, emulator, f'"{typo}"', "the bucket 'taem-")


def test_uploads_a_killed_push_left_are_cleaned_up_by_age(store: Backend) -> None:
    store.fs.pipe_file(store.key("tmp", "killed.part"), b"half an upload")
    store.fs.pipe_file(store.key("tmp", "notes.txt"), b"not ours")
    renders = RenderStore(StoreSettings(store.url))
    assert renders.clean_uploads() == []  # seconds old: it may be a live push
    assert renders.clean_uploads(older_than=0) == [store.key("tmp", "killed.part")]
    assert store.fs.ls(store.key("tmp"), detail=False) == [store.key("tmp", "notes.txt")]
