"""A kept run of the breakdown's corpus replayed (issue 84): its answers (bench/answers/), given
to ``storyboard breakdown`` with no server listening and nothing paid, write the same series and
give the same figures (episodes, seconds, shots, quotes verbatim, speakers missing). Each run a
real model made on the corpus (``bench/breakdown_local.py --corpus --keep-answers``), and one the
stand-in makes here, kept and replayed the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.breakdown.linecheck import line_problems
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import chat_base
from tests.fixtures.corpus import (
    ANSWERS,
    CORPUS,
    PLACEHOLDER,
    ROOT,
    figures,
    keep,
    kept_runs,
    repairs_table,
    replayed,
    table,
    unpack,
    verbatim,
    written,
)

KEY_ENV = "BENCH_LOCAL_KEY"  # the bench's: a loopback endpoint takes any key
KEPT = sorted(path.name for path in ANSWERS.glob("corpus-*.tar.xz"))
STAND_IN = "gift-of-the-magi.txt"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "none")


def stand_in_run(emulator: EmulatorServer, folder: Path) -> Path:
    """The stand-in's run of one story, kept as the bench keeps a real model's."""
    series = folder / "run"
    series.mkdir(parents=True)
    template = f"storyboard: 1\nbreakdown:\n  base_url: {PLACEHOLDER}\n  model: qwen-plus\n" \
               f"  key_env: {KEY_ENV}\n  price_in: 0\n  price_out: 0\n  stream: true\n"
    (series / "storyboard.yaml").write_text(template.replace(PLACEHOLDER, chat_base(emulator)),
                                            "utf-8")
    code, said, _report = replayed(STAND_IN, series)
    assert code == 0, said
    entry = next(e for e in table()["stories"] if e["file"] == STAND_IN)
    run = {"story": STAND_IN, "model": "qwen-plus", "mode": "json_schema", "block": template,
           "base_url": chat_base(emulator),
           "exit": code, "figures": figures(CORPUS / STAND_IN, series, entry["episodes"],
                                            table()["episode_seconds"])}
    keep(series, run, folder / "stand-in.tar.xz")
    return folder / "stand-in.tar.xz"


@pytest.mark.parametrize("kept", ["the stand-in's, kept here", *KEPT])
def test_a_kept_run_replays_to_the_same_series_and_figures_with_no_server(
        chat_emulator: EmulatorServer, tmp_path: Path, kept: str) -> None:
    archive = ANSWERS / kept if kept in KEPT else stand_in_run(chat_emulator, tmp_path)
    series, run = unpack(archive, tmp_path / "replay")
    code, said, report = replayed(run["story"], series)
    assert code == run["exit"], said
    assert report["sent"] == 0 and report["cached"] > 0, said  # nothing asked of a server
    assert "the chat call" not in said  # nor tried: a call the answers lack fails at port 9
    assert written(series) == written(tmp_path / "replay" / "kept" / "series")
    entry = next(e for e in table()["stories"] if e["file"] == run["story"])
    assert figures(CORPUS / run["story"], series, entry["episodes"],
                   table()["episode_seconds"]) == run["figures"]
    if "repairs" in run:  # a real model's run: each repair read as it read it
        assert report["repairs"] == run["repairs"]
    if kept in KEPT:  # every line to the story's speaker, as today's rules read it
        assert line_problems(series) == [], [d.message for d in line_problems(series)]


def test_a_speakers_joined_lines_are_the_authors_when_each_is_found_whole() -> None:
    """The writer joins a speaker's two lines in a scene (``chaptershots.then``): the quote is
    the author's when each is in the story as written, never a word changed or invented."""
    told = "Why don't you get up and play with us? they said. I don't feel like it, he said. " \
        "Real isn't how you are made, said the Skin Horse. When a child loves you, it is."
    assert verbatim("Why don't you get up and play with us?", told)
    assert verbatim("Why don't you get up and play with us? I don't feel like it", told)
    assert verbatim("Real isn't how you are made … When a child loves you", told)
    assert not verbatim("Why don't you get up and fly? I don't feel like it", told)
    assert not verbatim("Real isn't how you are made … when you are old", told)
    assert not verbatim("Real isn't how you are made When a child loves you", told)  # no mark
    assert not verbatim(" , ", told)


def test_the_docs_count_each_repair_on_the_kept_runs() -> None:
    """Issue 84, item 4: every repair counted on the corpus, by mode (docs/benchmarks.md)."""
    docs = (ROOT / "docs" / "benchmarks.md").read_text("utf-8")
    assert "\n".join(repairs_table(kept_runs())) in docs, "\n".join(repairs_table(kept_runs()))
