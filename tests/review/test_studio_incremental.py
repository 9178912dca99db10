"""A save in a big series redoes only what it changed: one shot drawn, one episode stitched.

A generated series is drafted as the studio drafts it (``Studio.refresh``: check, then the local
drafts and their episodes); one shot is edited and the studio refreshes again. What was redone is
read from the files themselves (which drafts and episodes were written, by their modification
times), never from the code's insides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.language.compile import compile_path
from storyboard.media import samples
from storyboard.review.studio.state import Studio
from storyboard.run.pipeline import render_series
from storyboard.run.setup import RenderFlags

Times = dict[Path, int]


def make_series(root: Path, shots: int, episodes: int) -> list[Path]:
    samples.image(root / "media" / "mia.png", 256, 256)
    (root / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: Big\ndefaults: {resolution: 720P, ratio: '16:9', duration: 2}\n"
        "characters:\n  mia: {image: media/mia.png}\nepisodes:\n  - episodes/*.yaml\n",
        encoding="utf-8")
    (root / "episodes").mkdir()
    files = []
    for e in range(episodes):
        lines = [f"id: ep{e:02d}", "shots:"]
        for s in range(shots // episodes):
            lines += [f"  - id: s{s:03d}", f"    prompt: \"@mia waves, take {e}.{s}\""]
        file = root / "episodes" / f"{e:02d}.yaml"
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(file)
    return files


def written(folder: Path) -> Times:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*.mp4")}


def changed(before: Times, after: Times) -> set[Path]:
    return {p for p, t in after.items() if before.get(p) != t}


def test_one_shot_edited_in_100_is_the_one_drawn_and_its_episode_the_one_stitched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A series of 100 shots in 10 episodes: the edited shot is the one draft drawn again, its
    episode the one stitched again (each shot is a draft drawn: the size is the test's CPU)."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "big"
    files = make_series(root, shots=100, episodes=10)
    studio = Studio(root)
    studio.refresh()
    assert studio.snapshot.phase == "draft", studio.snapshot.problems
    drafts, episodes = root / ".storyboard" / "cache", studio.draft_dir
    first_drafts, first_episodes = written(drafts), written(episodes)
    assert len(first_drafts) == 100
    assert {p.name for p in first_episodes} == {f"ep{e:02d}.mp4" for e in range(10)}

    files[3].write_text(files[3].read_text().replace("take 3.7\"", "take 3.7, smiling\""))
    studio.refresh()
    assert studio.snapshot.phase == "draft", studio.snapshot.problems
    drawn = changed(first_drafts, written(drafts))
    assert len(drawn) == 1  # the edited shot, and no other
    assert changed(first_episodes, written(episodes)) == {episodes / "ep03.mp4"}


def test_stitching_joins_again_only_the_episodes_whose_shots_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "small"
    files = make_series(root, shots=6, episodes=3)
    out = tmp_path / "out"
    first = render_series(compile_path(root), RenderFlags("local", draft=True, yes=True, out=out))
    assert [e.state for e in first.episodes] == ["stitched"] * 3
    before = written(out)

    again = render_series(compile_path(root), RenderFlags("local", draft=True, yes=True, out=out))
    assert [e.state for e in again.episodes] == ["up to date"] * 3
    assert changed(before, written(out)) == set()

    files[0].write_text(files[0].read_text().replace("take 0.1\"", "take 0.1, again\""))
    lines = files[2].read_text().splitlines()
    files[2].write_text("\n".join(lines[:-2]) + "\n")  # ep02's last shot removed
    edited = render_series(compile_path(root), RenderFlags("local", draft=True, yes=True, out=out))
    assert [(e.id, e.state) for e in edited.episodes] == [
        ("ep00", "stitched"), ("ep01", "up to date"), ("ep02", "stitched")]
    assert {p.name for p in changed(before, written(out))} == {"ep00.mp4", "ep02.mp4"}


def test_the_lock_is_written_byte_for_byte_as_indented_json_writes_it() -> None:
    """The lock's shots are indented once per entry and reused: the text is still exactly
    ``json.dumps(sort_keys=True, indent=2)``'s, whatever the entries hold."""
    import json
    import random

    from storyboard.run.state.lock.lockfile import render_lock

    chooser = random.Random(7)

    def value(depth: int) -> object:
        roll = chooser.random()
        if depth > 3 or roll < 0.3:
            return chooser.choice([1, 2.5, 1.0, True, None, "é\"x\n", "", -3, 1e20])
        if roll < 0.6:
            return {f"k{i}é": value(depth + 1) for i in range(chooser.randint(0, 4))}
        return [value(depth + 1) for _ in range(chooser.randint(0, 3))]

    for _ in range(200):
        shots = {f"s/é{chooser.randint(0, 99)}/\"{i}": {f"k{j}": value(1) for j in
                                                        range(chooser.randint(0, 5))}
                 for i in range(chooser.randint(0, 6))}
        takes = chooser.choice([None, {}, {"a": {"picked": 2}}, {"b": {}}])
        data: dict[str, object] = {"storyboard_lock": 1, "shots": shots}
        if any((takes or {}).values()):
            data["takes"] = {k: v for k, v in (takes or {}).items() if v}
        expected = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        assert render_lock(shots, takes) == expected
        assert render_lock(shots, takes) == expected  # again, from the kept entries
