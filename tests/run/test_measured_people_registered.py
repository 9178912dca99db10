"""A character sent by its registered face (issue 96): a Kling 4.0 shot sends ``@mia`` as her
saved element, no picture of her in the request, yet her takes are matched against the picture
that element shows (her image, or her look's where the look has an element of its own), beside
the other characters' pictures: a take showing another declared face in her place is said, a take
showing her is not.

Compiled for real (no network), the pictures measured as a run measures them (once, by their
content), the takes composed from public-domain photographs (tests/fixtures/faces/SOURCE.md) and
measured for real; their findings judged by the code every view calls.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import storyboard
from storyboard.language.request import CompiledShot
from storyboard.media.faces.scan import measure
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.state.measured import Thresholds
from storyboard.run.state.people.cast import pictures
from storyboard.run.state.people.findings import people_findings
from storyboard.run.state.people.records import measure_people, record_path
from tests.fixtures.faces import ASTRONAUT, HOPPER, Placed, compose

SERIES = """\
storyboard: 1
title: Registered
defaults: {resolution: 720P, ratio: "16:9"}
provider: {name: kling, base_url: "https://api.example.com", media_base_url: "https://media.example.com"}
characters:
  mia:
    image: media/mia.jpg
    identity: {kling: {element: "8810"}}
    looks:
      storm:
        image: media/mia-storm.jpg
        episodes: "2-"
        identity: {kling: {element: "9920"}}
  bea: {image: media/bea.jpg}
episodes:
  - id: ep01
    shots:
      - {id: one, model: kling-v4-omni, duration: 5, prompt: "@mia talks to @bea"}
  - id: ep02
    shots:
      - {id: two, model: kling-v4-omni, duration: 5, prompt: "@mia talks to @bea in the rain"}
"""


def judged(root: Path, take: CompiledShot, shown: Path) -> list[tuple[str, str, str]]:
    """What ``shown``, measured as ``take``'s file, is judged to show."""
    for picture in pictures(root, take, LockFile(root / "storyboard.lock", {})):
        assert picture.file is not None and picture.sha256 is not None, picture
        measure_people(root, picture.file, picture.sha256, "image", small=False)
    sha = hashlib.sha256(shown.read_bytes()).hexdigest()
    record_path(root, sha).write_text(json.dumps(measure(shown, "video", [0.5]).to_dict()), "utf-8")
    return [(f.kind, f.severity, f.detail)
            for f in people_findings(root, sha, take, Thresholds())]


def test_a_character_sent_by_its_element_is_matched_against_the_picture_it_shows(
        tmp_path: Path) -> None:
    root = tmp_path / "registered"
    (root / "media").mkdir(parents=True)
    shutil.copy(ASTRONAUT, root / "media" / "mia.jpg")
    compose(root / "media" / "mia-storm.jpg", [Placed(ASTRONAUT, 0, 0, mirror=True)],
            seconds=None, size=(512, 512))
    shutil.copy(HOPPER, root / "media" / "bea.jpg")
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    manifest = storyboard.compile(root, provider="kling")
    one, two = (ep.shots[0] for ep in manifest.episodes)
    sent = [(m.role, m.ref.id, m.character) for m in one.request.media]
    assert ("element", "8810", "mia") in sent  # her element goes, not her picture
    assert not any(m.ref.path == root / "media" / "mia.jpg" for m in one.request.media)
    assert {n: r.path for n, r in one.people.items()} == {
        "mia": root / "media" / "mia.jpg", "bea": root / "media" / "bea.jpg"}
    assert two.people["mia"].path == root / "media" / "mia-storm.jpg"  # her look's element's

    room = tmp_path / "takes"
    room.mkdir()
    clean = compose(room / "clean.mp4", [Placed(ASTRONAUT, 40, 60), Placed(HOPPER, 700, 60, 0.6)],
                    seconds=1)
    assert judged(root, one, clean) == []
    swapped = compose(room / "swapped.mp4", [Placed(HOPPER, 40, 60, 0.6),
                                             Placed(HOPPER, 700, 60, 0.6)], seconds=1)
    [(kind, severity, detail)] = judged(root, one, swapped)
    assert (kind, severity) == ("identity", "error")
    assert detail.startswith("@mia's place shows @bea") and "mia's media/mia.jpg" in detail, detail
    assert judged(root, two, clean) == []  # her storm look: the same face, mirrored


PORTRAIT = """\
storyboard: 1
title: Portrait
defaults: {resolution: 720P, ratio: "16:9"}
provider: {name: ark, media_base_url: "https://media.example.com"}
characters:
  mia:
    image: media/mia.jpg
    identity: {ark: {asset: asset-2026-mia}}
episodes:
  - id: ep01
    shots:
      - {id: one, model: doubao-seedance-2-0-260128, duration: 5, prompt: "@mia waves"}
"""


def test_a_character_sent_as_its_registered_portrait_is_matched_against_its_picture(
        tmp_path: Path) -> None:
    """On Seedance through Ark, ``@mia`` goes as ``asset://ID`` (her portrait registered in the
    vendor's library), never her picture's URL; her takes are matched against her picture."""
    root = tmp_path / "portrait"
    (root / "media").mkdir(parents=True)
    shutil.copy(ASTRONAUT, root / "media" / "mia.jpg")
    (root / "storyboard.yaml").write_text(PORTRAIT, encoding="utf-8")
    [episode] = storyboard.compile(root, provider="ark").episodes
    [one] = episode.shots
    assert [m.ref.url for m in one.request.media] == ["asset://asset-2026-mia"]
    assert {n: r.path for n, r in one.people.items()} == {"mia": root / "media" / "mia.jpg"}
    room = tmp_path / "takes"
    room.mkdir()
    assert judged(root, one, compose(room / "mia.mp4", [Placed(ASTRONAUT, 300, 60)], seconds=1)) == []
    [(kind, severity, detail)] = judged(root, one, compose(
        room / "other.mp4", [Placed(HOPPER, 300, 60, 0.6)], seconds=1))
    assert (kind, severity) == ("identity", "error") and detail.startswith("@mia is 0."), detail
    assert detail.endswith("from its picture media/mia.jpg (at most 0.50)")
