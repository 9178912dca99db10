"""bench/faithfulness.py (issue 98 item 7): its arithmetic on a tiny season made by hand, in the
shape the breakdown writes (each shot's story span and each line's story line in comments), and
that it catches an invented action, a line given to another than the story's speaker and a line
said twice; and the bench run as a user runs it over the kept corpus, one row a kept run."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
STORY = """\
# The Mill

Anna opened the mill door. The wind was cold.

"Where is the flour?" asked Anna.

"In the loft," said Bruno.

Bruno climbed the ladder and Anna waited below.
"""
ONE = """\
id: ep01
title: "The Mill"
shots:
  # mill.txt:3-5
  - id: s01-anna-opened
    duration: 4
    scenes:
      - at: 0-4s
        action: "wide shot, static: @anna opens the mill door."
        say: {anna: "Where is the flour?"}   # mill.txt: line 5
  # mill.txt:7-9
  - id: s02-loft-bruno
    duration: 6
    scenes:
      - at: 0-3s
        action: "medium shot: @bruno juggles flaming torches on a unicycle."
        say: {anna: "In the loft,"}   # mill.txt: line 7
      - at: 3-6s
        action: "@anna speaks"
        say: {anna: "Where is the flour?"}   # mill.txt: line 5
"""
TWO = """\
id: ep02
title: "The Loft"
shots:
  # mill.txt:9-9
  - id: s01-bruno-climbed
    duration: 2
    scenes:
      - at: 0-2s
        action: "close-up: @bruno climbs the ladder while @anna waits below."
"""
CAST = {"anna": "Anna", "bruno": "Bruno"}


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_faithfulness",
                                                  ROOT / "bench" / "faithfulness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_measure_on_a_season_made_by_hand() -> None:
    bench = bench_module()
    figures = bench.measure(STORY, [ONE, TWO], CAST)
    # events: Anna opened (line 3), Bruno climbed and Anna waited (line 9); each told, in order
    assert (figures.events, figures.reached, figures.in_order) == (3, 3, 3)
    # the juggling on a unicycle is in no line of its span (7-9): one shot of three invents
    assert (figures.shots, figures.invented) == (3, 1)
    # three lines judged (each names its speaker); the loft's is Bruno's, given to Anna
    assert (figures.lines, figures.judged, figures.right) == (3, 3, 2)
    assert figures.wrong == ["line 7: anna for Bruno: 'In the loft,'"]
    assert figures.twice == 1  # "Where is the flour?" twice in episode 1
    # seconds 4, 6, 2 against span words 15, 13, 8: r = 10 / sqrt(8 * 26)
    assert math.isclose(figures.correlation, 10 / math.sqrt(208))
    assert figures.words_a_second == (3.75, 4.0)


def test_story_order_and_an_unattributed_line() -> None:
    bench = bench_module()
    shots = [*bench.shots_of(ONE, 1), *bench.shots_of(TWO, 2)]
    events = [("anna", "open"), ("bruno", "climb"), ("anna", "wait")]
    assert bench.reach(events, shots) == (3, 3)
    assert bench.reach(events, shots[::-1]) == (3, 1)  # told backwards: one in order
    lines = ['"Go," she said.', "", '"Stay," said old Mrs. Rabbit.', "", "I said nothing."]
    assert bench.attributed(lines, "Go,", 1) is None  # a pronoun is not judged
    assert bench.attributed(lines, "Stay,", 3) == "old Mrs. Rabbit"
    assert bench.same("old Mrs. Rabbit", "mrs_rabbit", {})
    assert not bench.same("old Mrs. Rabbit", "peter", {"peter": "Peter"})


def test_one_length_of_shot_has_no_correlation_and_the_bench_prints_each_kept_run() -> None:
    bench = bench_module()
    assert bench.pearson([6.0, 6.0, 6.0], [10.0, 40.0, 161.0]) is None
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "faithfulness.py")],
                          capture_output=True, text=True, timeout=120, check=True)
    rows = [r for r in done.stdout.splitlines() if r.startswith("| ") and "story, server" not in r]
    kept = sorted((ROOT / "bench" / "answers").glob("corpus-*.tar.xz"))
    assert len(rows) == len(kept) > 0
    assert "commit " in done.stdout and "1-min load " in done.stdout
