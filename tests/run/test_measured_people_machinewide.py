"""A file's people measured once a machine (``STORYBOARD_PEOPLE_SHARED``): a second series
holding the same bytes takes the first's record instead of measuring; a record that is not whole,
or light only where faces are looked for, is measured again and written over; without the
variable each series measures its own. Measured for real (a public-domain photograph,
tests/fixtures/faces/SOURCE.md)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from storyboard.media import memo
from storyboard.media.faces import scan
from storyboard.run.state.people.machinewide import PEOPLE_SHARED_ENV
from storyboard.run.state.people.records import measure_people, record_path
from tests.fixtures.faces import ASTRONAUT


def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each file measured from here on (nothing ffmpeg read before remembered)."""
    monkeypatch.setattr(memo, "_KNOWN", type(memo._KNOWN)())
    measured: list[Path] = []
    real = scan.measure

    def measure(path: Path, *args: object, **kwargs: object) -> object:
        measured.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "measure", measure)
    return measured


def series(tmp_path: Path, name: str) -> tuple[Path, Path, str]:
    """A series folder ``name`` holding the photograph: (its root, the picture, its sha256)."""
    root = tmp_path / name
    (root / "media").mkdir(parents=True)
    picture = root / "media" / "ann.jpg"
    shutil.copy(ASTRONAUT, picture)
    return root, picture, hashlib.sha256(picture.read_bytes()).hexdigest()


def test_a_second_series_takes_the_machines_record_instead_of_measuring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    share = tmp_path / "people"
    monkeypatch.setenv(PEOPLE_SHARED_ENV, str(share))
    measured = counted(monkeypatch)
    first, picture, sha = series(tmp_path, "first")
    found = measure_people(first, picture, sha, "image", small=False)
    assert found is not None and found.frames[0].faces  # her face, measured here
    assert measured == [picture]
    kept = (share / f"{sha}.people.json").read_text("utf-8")
    assert kept == record_path(first, sha).read_text("utf-8")

    second, copy, _ = series(tmp_path, "second")
    assert measure_people(second, copy, sha, "image", small=False) == found
    assert measured == [picture]  # taken, not measured
    assert record_path(second, sha).read_text("utf-8") == kept  # kept as the series' own


@pytest.mark.parametrize("entry", ["{\"kind\": \"video\", \"frames\": [", "light only", "{}"])
def test_a_shared_record_that_does_not_stand_is_measured_again_and_written_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    share = tmp_path / "people"
    monkeypatch.setenv(PEOPLE_SHARED_ENV, str(share))
    measured = counted(monkeypatch)
    first, picture, sha = series(tmp_path, "first")
    if entry == "light only":  # measured where no face was looked for
        measure_people(first, picture, sha, "image", faces=False, small=False)
        assert not json.loads((share / f"{sha}.people.json").read_text("utf-8"))["searched"]
    else:
        share.mkdir()
        (share / f"{sha}.people.json").write_text(entry, "utf-8")
    measured.clear()
    second, copy, _ = series(tmp_path, "second")
    found = measure_people(second, copy, sha, "image", small=False)
    assert found is not None and found.frames[0].faces
    assert measured == [copy]
    assert (share / f"{sha}.people.json").read_text("utf-8") == \
        record_path(second, sha).read_text("utf-8")  # written over with what stands


def test_without_the_variable_each_series_measures_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PEOPLE_SHARED_ENV, raising=False)
    measured = counted(monkeypatch)
    first, picture, sha = series(tmp_path, "first")
    second, copy, _ = series(tmp_path, "second")
    assert measure_people(first, picture, sha, "image", small=False) == \
        measure_people(second, copy, sha, "image", small=False)
    assert measured == [picture, copy]


def test_a_shared_folder_that_cannot_be_written_costs_only_the_measuring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "people"
    blocked.write_text("a file where the folder should be", "utf-8")
    monkeypatch.setenv(PEOPLE_SHARED_ENV, str(blocked))
    measured = counted(monkeypatch)
    first, picture, sha = series(tmp_path, "first")
    assert measure_people(first, picture, sha, "image", small=False) is not None
    assert record_path(first, sha).is_file() and measured == [picture]
