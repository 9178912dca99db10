"""A new process after an edit compiles only the episodes it touched, the others read back from
``.storyboard/checked-episodes/``, and the manifest is the very one a cold check gives (hashes are
money); an entry this machine did not write, or a changed file or series, is compiled anew."""

from __future__ import annotations

import marshal
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.errors import ProblemsFound
from storyboard.language import storedform
from storyboard.language.cache import episodecache, incremental
from storyboard.language.compile import compile_path
from storyboard.language.request import Manifest
from tests.fixtures.series_gen import make_series, shot

EPISODES = 3
WITH_A_PROBLEM = (8, 9)  # shot kinds with an error (an unknown character, too long)


def clean_episode(number: int, shots: int, word: str = "plays") -> str:
    """An episode of every shot kind ``series_gen`` makes but those with an error."""
    lines = [f"id: ep{number:02d}", f"title: Episode {number}",
             "takes: 2" if number % 2 else 'title_card: {text: "Part", duration: 2}', "shots:"]
    for index in range(shots):
        if index % 12 not in WITH_A_PROBLEM:
            lines += [line.replace("first_frame: media/", "first_frame: ../media/")
                      for line in shot(index, word if index == 1 else "plays")]
    return "\n".join(lines) + "\n"


@pytest.fixture
def series(tmp_path: Path) -> Iterator[Path]:
    root = make_series(tmp_path / "generated", episodes=0, shots=0)
    for number in range(EPISODES):
        (root / "episodes" / f"{number:02d}.yaml").write_text(clean_episode(number, 12))
    incremental.forget()
    yield root
    incremental.forget()


def new_process(root: Path) -> Manifest:
    """``compile_path`` as a new process runs it: nothing kept in memory, counters at 0."""
    incremental.forget()
    episodecache.forget()
    return compile_path(root)


def cold(root: Path) -> Manifest:
    """A check with nothing stored anywhere (what a first check gives)."""
    shutil.rmtree(root / ".storyboard")
    manifest = new_process(root)
    assert episodecache.STATS == {"read": 0, "stored": EPISODES}
    return manifest


def entries(root: Path) -> list[Path]:
    return sorted((root / ".storyboard" / episodecache.FOLDER).glob("*.entry"))


def test_an_edit_compiles_its_episode_only_in_a_new_process(series: Path) -> None:
    first = new_process(series)
    assert episodecache.STATS == {"read": 0, "stored": EPISODES} and first.warnings
    assert len(entries(series)) == EPISODES
    (series / "episodes" / "01.yaml").write_text(clean_episode(1, 12, "sings"))
    edited = new_process(series)
    assert episodecache.STATS == {"read": EPISODES - 1, "stored": 1}
    assert incremental.STATS["shots_compiled"] == len(edited.episodes[1].shots)  # 10 of 30
    assert len(entries(series)) == EPISODES  # the episode's entry replaced, not added to
    again = cold(series)
    assert edited == again  # every episode, shot, take, request, canonical form, span, warning
    assert [t.hash for t in edited.takes()] == [t.hash for t in again.takes()]
    pairs = zip(first.episode_shots(), edited.episode_shots(), strict=True)
    changed = [f"{s.episode}/{s.id}" for s, t in pairs if s.hash != t.hash]
    assert changed == ["ep01/s001", "ep01/s002"]  # s002's first frame is s001's last


def test_a_process_that_read_an_episode_back_keeps_it(series: Path) -> None:
    new_process(series)
    (series / "episodes" / "00.yaml").write_text(clean_episode(0, 12, "sings"))
    first = new_process(series)
    for entry in entries(series):
        entry.write_text("{}")  # were it read again, this would compile anew
    assert compile_path(series) == first
    assert incremental.STATS["compiled"] == 0 and episodecache.STATS["read"] == EPISODES - 1


@pytest.mark.parametrize("damage", ["garbage", "resigned"])
def test_an_entry_this_machine_did_not_write_is_compiled_anew(series: Path, damage: str) -> None:
    first = new_process(series)
    (series / "episodes" / "02.yaml").write_text(clean_episode(2, 12, "sings"))
    for entry in entries(series):
        if damage == "garbage":
            entry.write_bytes(b"not a signature\n" + entry.read_bytes().partition(b"\n")[2])
        else:  # signed here, but not an entry: read as nothing
            key = entry.read_bytes().partition(b"\n")[2].partition(b"\n")[0].split(b" ")[1]
            assert storedform.write(entry, key.decode(), marshal.dumps({"key": "x"}))
    edited = new_process(series)
    assert episodecache.STATS == {"read": 0, "stored": EPISODES}
    assert edited.episodes[0] == first.episodes[0] and edited == cold(series)


def test_a_changed_file_recompiles_the_episodes_naming_it(series: Path) -> None:
    new_process(series)
    (series / "episodes" / "01.yaml").write_text(clean_episode(1, 12, "sings"))
    new_process(series)
    guitar = series / "media" / "props" / "guitar.png"
    guitar.write_bytes(guitar.read_bytes() + b"\0")  # every episode names it
    edited = new_process(series)
    assert episodecache.STATS == {"read": 0, "stored": EPISODES}
    assert edited == cold(series)


def test_an_edit_to_the_series_file_recompiles_every_episode(series: Path) -> None:
    new_process(series)
    head = series / "storyboard.yaml"
    head.write_text(head.read_text().replace("seed: 7", "seed: 8"))
    edited = new_process(series)
    assert episodecache.STATS == {"read": 0, "stored": EPISODES}
    assert edited == cold(series)


def test_an_episode_edited_in_a_warm_process_is_stored_for_the_next(series: Path) -> None:
    first = new_process(series)
    (series / "episodes" / "00.yaml").write_text(clean_episode(0, 12, "sings"))
    saved = compile_path(series)  # the studio's save: its shots compiled anew, in this process
    assert episodecache.STATS == {"read": 0, "stored": EPISODES + 1}
    assert new_process(series) == saved != first
    assert episodecache.STATS == {"read": EPISODES, "stored": 0} or \
        incremental.STATS["compiled"] == 0  # the whole series read back: nothing changed


def test_nothing_is_stored_while_the_series_has_an_error(series: Path) -> None:
    (series / "episodes" / "03.yaml").write_text("id: ep03\nshots:\n  - id: a\n    prompt: \"@mai\"\n")
    with pytest.raises(ProblemsFound):
        new_process(series)
    assert episodecache.STATS == {"read": 0, "stored": 0} and not entries(series)


def test_a_problem_said_once_per_series_stays_said_once(series: Path) -> None:
    """A model served in another region is said once, by the first episode that uses it: the
    episodes after it are never stored, so an edit before it moves the warning, not doubles it."""
    h3 = ('id: ep03\nshots:\n  - id: h\n    model: MiniMax/MiniMax-H3\n    resolution: 768P\n'
          '    prompt: "@mia at the harbour"\n')
    for name in ("03", "04"):
        (series / "episodes" / f"{name}.yaml").write_text(h3.replace("ep03", f"ep{name}"))
    incremental.forget()
    episodecache.forget()
    first = compile_path(series, provider="dashscope")
    said = [w for w in first.warnings if w.code == "model-region"]
    assert len(said) == 1 and said[0].span is not None and said[0].span.file.endswith("03.yaml")
    assert episodecache.STATS["stored"] == EPISODES  # not 03 (it said it) nor 04 (after it)
    plain = h3.replace("    model: MiniMax/MiniMax-H3\n    resolution: 768P\n", "")
    (series / "episodes" / "03.yaml").write_text(plain)  # the default model: said by 04 now
    incremental.forget()
    edited = compile_path(series, provider="dashscope")
    moved = [w for w in edited.warnings if w.code == "model-region"]
    assert len(moved) == 1 and moved[0].span is not None and moved[0].span.file.endswith("04.yaml")
    shutil.rmtree(series / ".storyboard")
    incremental.forget()
    assert edited == compile_path(series, provider="dashscope")


def test_an_entry_removed_under_a_running_process_is_written_again(series: Path) -> None:
    """A process remembers the entries it wrote; one removed since (``storyboard cache prune``)
    is written again, and the series' entry, which names it, reads it back."""
    first = new_process(series)
    shutil.rmtree(series / ".storyboard" / episodecache.FOLDER)
    incremental.forget()  # its shots let go, the entries it wrote remembered
    assert compile_path(series) == first and len(entries(series)) == EPISODES
    incremental.forget()
    assert compile_path(series) == first and incremental.STATS["resolved"] == 0


KEYS = """
import sys
from pathlib import Path
from storyboard.language.cache.episodecache import resolved_digest
from storyboard.language.expansion.expand import expand_one
from storyboard.language.cache.incremental import MemoResolver
from storyboard.language.read.series import load_source
resolver = MemoResolver(expand_one(load_source(Path(sys.argv[1]))))
print([resolved_digest(episode) for episode in resolver.episodes()], resolver.problems)
"""


def test_an_episode_s_key_is_the_same_in_every_process(tmp_path: Path) -> None:
    """A scene's voiceover is a set, whose order follows the strings' hashes, salted anew in
    each process: keyed as it was, such an episode was never read back by a new process."""
    root = make_series(tmp_path / "generated", episodes=0, shots=0)
    (root / "episodes" / "00.yaml").write_text(
        "id: ep00\nshots:\n  - id: s1\n    scenes:\n      - at: 0-4s\n"
        "        action: \"@mia and @sam in the band room\"\n"
        "        say: {mia: One., sam: Two., bob: Three., barista: Four., guitar: Five.}\n"
        "        voiceover: true\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(episodecache.__file__).parents[3])}
    printed = {subprocess.run([sys.executable, "-c", KEYS, str(root)], capture_output=True,
                              text=True, check=True, env={**env, "PYTHONHASHSEED": str(seed)}
                              ).stdout for seed in range(1, 7)}
    assert len(printed) == 1, printed
    assert "severity='error'" not in printed.pop()  # resolved (warnings only)
