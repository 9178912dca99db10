"""Who is in a take, measured once a team, through a store on a local folder (a network share):
tests/fixtures/store_people.py says the check; tests/run/test_store_s3.py runs it on S3."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.run.team.store import STORE_ENV
from tests.fixtures.store_people import people_measured_once


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-store-people-key")
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv(STORE_ENV, raising=False)


def test_a_teammates_fresh_clone_measures_no_one_again_from_a_folder_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "store"

    def listed() -> list[str]:
        return sorted(p.name for p in (folder / "v1" / "people").iterdir())

    people_measured_once(f'"{folder.as_uri()}"', listed, tmp_path, monkeypatch)
