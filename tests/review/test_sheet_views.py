"""Each episode's view kept while nothing it shows changed (``sheet/views.py``), made again when
something did: a note, a problem, a still gone from the thumbs cache.

A small generated series (two episodes, reference images only: nothing is rendered) is laid out
twice in one process, as the studio does on every save.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.media import samples
from storyboard.review.notes import add_note
from storyboard.review.sheet import sheet_model
from storyboard.review.sheet.model import Sheet
from storyboard.review.sheet.pictures.stills import episode_stills


def make_series(root: Path) -> Path:
    samples.image(root / "media" / "mia.png", 256, 256)
    (root / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: Views\ndefaults: {resolution: 720P, ratio: '16:9', duration: 2}\n"
        "characters:\n  mia: {image: media/mia.png}\nepisodes:\n  - episodes/*.yaml\n",
        encoding="utf-8")
    (root / "episodes").mkdir()
    for e in range(2):
        (root / "episodes" / f"{e}.yaml").write_text(
            f"id: ep{e}\nshots:\n  - id: s0\n    prompt: \"@mia waves, {e}\"\n"
            f"  - id: s1\n    prompt: \"@mia sits, {e}\"\n", encoding="utf-8")
    return root


def laid_out(root: Path) -> Sheet:
    manifest, problems = compile_lenient(load_source(root))
    return sheet_model(manifest, problems, sheet_dir=root / "out", provider="local", draft=True,
                       still_links="/still/")


def test_an_unchanged_episode_keeps_its_view_and_a_changed_one_is_made_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = make_series(tmp_path / "views")
    first = laid_out(root)
    again = laid_out(root)
    assert [a is b for a, b in zip(first.episodes, again.episodes, strict=True)] == [True, True]

    add_note(root, "ep1/s0", "warmer light", author="Ana")
    noted = laid_out(root)
    assert noted.episodes[0] is again.episodes[0]
    assert noted.episodes[1] is not again.episodes[1]
    assert any("warmer light" in n for p in noted.episodes[1].panels for n in p.notes)

    file = root / "episodes" / "0.yaml"
    file.write_text(file.read_text().replace("@mia sits", "@nobody sits"), encoding="utf-8")
    broken = laid_out(root)
    assert broken.episodes[1] is noted.episodes[1]
    assert any(p.problems for p in broken.episodes[0].panels)

    shutil.rmtree(root / ".storyboard" / "thumbs")  # a cache pruned: its stills are taken again
    pruned = laid_out(root)
    assert pruned.episodes[0] is not broken.episodes[0]  # made again (the stills it shows too)
    assert pruned.episodes == broken.episodes  # the same views
    assert all(path.is_file() for ep in pruned.episodes for path in episode_stills(ep).values())
