"""A file measured once a machine (``STORYBOARD_MEASURED_SHARED``), its people and its look: a
second series holding the same bytes takes the first's record instead of measuring; a record that
is not whole, of an older measurer, or light only where faces are looked for, is measured again
and written over; without the variable each series measures its own. Measured for real (a
public-domain photograph, tests/fixtures/faces/SOURCE.md; a video ffmpeg makes here)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from storyboard.media import memo, samples
from storyboard.media.faces import scan
from storyboard.run.state import measured as looks
from storyboard.run.state.machinewide import MEASURED_SHARED_ENV
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
    monkeypatch.setenv(MEASURED_SHARED_ENV, str(share))
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
    monkeypatch.setenv(MEASURED_SHARED_ENV, str(share))
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
    monkeypatch.delenv(MEASURED_SHARED_ENV, raising=False)
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
    monkeypatch.setenv(MEASURED_SHARED_ENV, str(blocked))
    measured = counted(monkeypatch)
    first, picture, sha = series(tmp_path, "first")
    assert measure_people(first, picture, sha, "image", small=False) is not None
    assert record_path(first, sha).is_file() and measured == [picture]


def looked(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each file whose look is measured from here on."""
    monkeypatch.setattr(memo, "_KNOWN", type(memo._KNOWN)())
    measured: list[Path] = []
    real = looks.measuring.measure

    def measure(path: Path, kind: str = "video") -> object:
        measured.append(path)
        return real(path, kind)

    monkeypatch.setattr(looks.measuring, "measure", measure)
    return measured


def take(tmp_path: Path, name: str, source: Path) -> tuple[Path, Path, str]:
    """A series folder ``name`` holding a copy of the video ``source``."""
    root = tmp_path / name
    (root / "out").mkdir(parents=True)
    copy = root / "out" / "take.mp4"
    shutil.copy(source, copy)
    return root, copy, hashlib.sha256(copy.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.video(tmp_path_factory.mktemp("look") / "take.mp4", seconds=1.0)


@pytest.mark.parametrize("entry", ["", "{\"version\": 1, \"kind\": \"video\"", "{}", "older"])
def test_a_takes_look_is_measured_once_a_machine_and_a_record_that_does_not_stand_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, video: Path, entry: str) -> None:
    share = tmp_path / "measured"
    monkeypatch.setenv(MEASURED_SHARED_ENV, str(share))
    measured = looked(monkeypatch)
    first, path, sha = take(tmp_path, "first", video)
    outcome = looks.measure_file(first, path, sha, "video")
    assert outcome.fresh and outcome.measured is not None and measured == [path]
    kept = (share / f"{sha}.json").read_text("utf-8")
    assert kept == looks.record_path(first, sha).read_text("utf-8")
    if entry == "older":
        data = json.loads(kept)
        (share / f"{sha}.json").write_text(json.dumps({**data, "version": 0}), "utf-8")
    elif entry:
        (share / f"{sha}.json").write_text(entry, "utf-8")

    second, copy, _ = take(tmp_path, "second", video)
    again = looks.measure_file(second, copy, sha, "video")
    assert again.fresh and again.measured == outcome.measured  # new to this series either way
    assert measured == ([path] if not entry else [path, copy])  # taken, or measured again
    assert looks.record_path(second, sha).read_text("utf-8") == kept
    assert (share / f"{sha}.json").read_text("utf-8") == kept  # what stands, written over


def test_without_the_variable_each_series_measures_its_takes_look(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, video: Path) -> None:
    monkeypatch.delenv(MEASURED_SHARED_ENV, raising=False)
    measured = looked(monkeypatch)
    first, path, sha = take(tmp_path, "first", video)
    second, copy, _ = take(tmp_path, "second", video)
    assert looks.measure_file(first, path, sha, "video").measured == \
        looks.measure_file(second, copy, sha, "video").measured
    assert measured == [path, copy]
