"""Benchmark: how faithful each kept season of the breakdown's corpus is to its story, measured.

    python bench/faithfulness.py [--only STEM,...] [--markdown]

Reads each kept run of ``bench/answers/corpus-*.tar.xz`` (the series it wrote, which the suite's
replay, ``tests/breakdown/test_breakdown_corpus_replay.py``, holds equal to what today's code
writes from its answers) beside its story in ``bench/corpus/``, and prints for each season:

- **events**: the story's events, and the share that reach a shot, and in story order. A unit is
  a paragraph (lines between blank lines), or each line of a paragraph whose every line ends a
  sentence (a story written one sentence a line). Its events are its (name, verb) pairs: a name
  is a capitalised word the story writes mid-sentence and never in lower case (``Della``,
  ``Holmes``); its verb the next word, in lower case, not an ordinary word (``Della counted``).
  A shot tells an event when its action holds the name and a word of the verb's stem
  (``@della counts``). In order: walked in story order, each event found in a shot at or after
  the shot the last one was found in.
- **invented**: the shots whose action says what their story span does not: at least
  ``LEAST`` of the action's content words (four letters or more, not ordinary, its camera words
  and the cast's names left out), and a share of them of at least ``SHARE``, whose stem is in no
  word of the shot's lines of the story (the words, stems and bounds of
  ``storyboard.breakdown.questions.told``, which a season asked by rules 3 sends a scene back by;
  here the shot's whole action is read, each word as this bench tokenizes it).
- **speakers**: the lines whose speaker is the one the story attributes the quote to: a name next
  to a speech verb just before or after the quote in its paragraph (``"...," said old Mrs.
  Rabbit``, ``Holmes cried: "..."``); a line with no such name (``she said``, no verb, the
  narrator's ``I``) is not judged.
- **twice**: the lines said again in the same episode (the same words, a second time).
- **weight**: how each shot's share of the screen follows the story's weight: the correlation of
  a shot's seconds with the words of its story span (n/a when every shot is as long), and the
  words a second of its shots, median and most (a climax squeezed into one shot beside songs
  spread over many shows as a most far above the median).

Everything is deterministic: the same series and story give the same figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from storyboard.breakdown.questions.told import LEAST, ORDINARY, SHARE, stem

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ("said|says|cried|asked|answered|replied|shouted|called|whispered|exclaimed|continued|"
          "added|returned|repeated|muttered|observed|remarked|began|murmured|screamed|sobbed|"
          "laughed|gasped|growled|grumbled|demanded|insisted|explained|declared|thought")
NAME = (r"(?:(?:the|old|little|young|poor|dear)\s+)*(?:(?:Mr|Mrs|Dr|Miss|Ms)\.?\s+)?"
        r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?|the\s+(?:(?:old|little|young|poor)\s+)?[a-z]+")
AFTER = re.compile(rf"^[\s,.!?;:—–-]*(?:(?:{SPEECH})\s+(?P<a>{NAME})|(?P<b>{NAME})\s+(?:{SPEECH})\b)")
BEFORE = re.compile(rf"(?P<c>{NAME})\s+(?:{SPEECH})\s*[,:.]?\s*$")
TITLES = {"the", "old", "little", "young", "poor", "dear", "mr", "mrs", "dr", "miss", "ms"}
SPAN = re.compile(r"^  # .+?:(\d+)-(\d+)\s*$")
CAMERA = re.compile(r"^[^@:]{0,80}:\s")
SPOKEN = re.compile(r"^@\w+ speaks$")
WORD = re.compile(r"[A-Za-z][a-z'’]*")
QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})


def flat(text: str) -> str:
    return " ".join(text.translate(QUOTES).split())


@dataclass(frozen=True)
class Shot:
    episode: int
    first: int  # its story span's lines
    last: int
    seconds: float
    action: str
    said: tuple[tuple[str, str, int], ...]  # (speaker, quote, story line)


def shots_of(text: str, episode: int) -> list[Shot]:
    """An episode file's shots, each with the story span its comment gives (``# FILE:A-B``)."""
    spans = [(int(m.group(1)), int(m.group(2))) for m in map(SPAN.match, text.split("\n")) if m]
    lines = re.findall(r"(?m)^\s+say: .*# .+?: line (\d+)", text)
    data = yaml.safe_load(text) or {}
    out, said_at = [], iter(int(n) for n in lines)
    for (first, last), shot in zip(spans, data.get("shots") or [], strict=True):
        actions, said = [], []
        for scene in shot.get("scenes") or []:
            action = str(scene.get("action") or "")
            if not SPOKEN.match(action):
                actions.append(CAMERA.sub("", action, count=1))
            for who, quote in (scene.get("say") or {}).items():
                said.append((str(who), str(quote), next(said_at, 0)))
        out.append(Shot(episode, first, last, float(shot.get("duration") or 0),
                        " ".join(actions), tuple(said)))
    return out


def names_of(story: str) -> set[str]:
    """Capitalised words the story writes mid-sentence and never in lower case."""
    lower = {w for w in WORD.findall(story) if w.islower()}
    found = set()
    for match in re.finditer(r"(?<=[a-z,;] )([A-Z][a-z]+)", story):
        if match.group(1).lower() not in lower and match.group(1).lower() not in ORDINARY:
            found.add(match.group(1))
    return found


def units(lines: list[str]) -> list[tuple[int, str]]:
    """Each unit's first line and text: paragraphs, or the lines of one written a sentence a line."""
    out: list[tuple[int, str]] = []
    block: list[tuple[int, str]] = []
    for number, line in enumerate([*lines, ""], 1):
        if line.strip():
            block.append((number, line.strip()))
            continue
        if len(block) > 1 and all(re.search(r"[.!?][\"'”’)]*$", t) for _, t in block):
            out += block
        elif block:
            out.append((block[0][0], " ".join(t for _, t in block)))
        block = []
    return out


def events_of(text: str, names: set[str]) -> list[tuple[str, str]]:
    """A unit's (name, verb stem) pairs, in order, each once."""
    tokens = WORD.findall(text)
    found: list[tuple[str, str]] = []
    for at, token in enumerate(tokens[:-1]):
        verb = tokens[at + 1]
        if token in names and verb.islower() and len(verb) >= 3 and verb not in ORDINARY:
            pair = (token.lower(), stem(verb))
            if pair not in found:
                found.append(pair)
    return found


def tells(shot: Shot, event: tuple[str, str]) -> bool:
    words = WORD.findall(shot.action.replace("@", " ").replace("_", " ").lower())
    return event[0] in words and any(stem(w) == event[1] for w in words)


def reach(events: list[tuple[str, str]], shots: list[Shot]) -> tuple[int, int]:
    """(reached at all, reached in story order)."""
    anywhere = ordered = cursor = 0
    for event in events:
        at = next((i for i in range(cursor, len(shots)) if tells(shots[i], event)), None)
        if at is not None:
            ordered, cursor = ordered + 1, at
        if at is not None or any(tells(s, event) for s in shots[:cursor]):
            anywhere += 1
    return anywhere, ordered


def content(text: str, cast: set[str]) -> list[str]:
    words = WORD.findall(text.replace("@", " ").replace("_", " "))
    return [w.lower() for w in words if len(w) >= 4 and w.lower() not in ORDINARY
            and w.lower() not in cast]


def invented(shot: Shot, lines: list[str], cast: set[str]) -> bool:
    told = {stem(w) for w in WORD.findall(" ".join(lines[shot.first - 1: shot.last]))}
    words = content(shot.action, cast)
    absent = [w for w in words if stem(w) not in told]
    return len(absent) >= LEAST and len(absent) >= SHARE * len(words)


def paragraph_at(lines: list[str], line: int) -> str:
    first = last = line - 1
    while first > 0 and lines[first - 1].strip():
        first -= 1
    while last + 1 < len(lines) and lines[last + 1].strip():
        last += 1
    return flat(" ".join(lines[first: last + 1]))


def attributed(lines: list[str], quote: str, line: int) -> str | None:
    """The name a speech verb next to the quote gives in its paragraph (None: none)."""
    if not 1 <= line <= len(lines):
        return None
    text, said = paragraph_at(lines, line), flat(quote).strip(" ,.!?")
    at = text.find(said)
    if not said or at < 0:
        return None
    after = AFTER.match(text[at + len(said):].lstrip("\"' ,.!?"))
    before = BEFORE.search(text[:at].rstrip("\"' "))
    name = (after.group("a") or after.group("b")) if after else before.group("c") if before \
        else None
    return name if name and {w.lower() for w in WORD.findall(name)} - TITLES else None


def same(name: str, speaker: str, cast: dict[str, str]) -> bool:
    words = {w.lower() for w in WORD.findall(name)} - TITLES
    held = set(speaker.lower().split("_")) | {
        w.lower() for w in WORD.findall(cast.get(speaker, ""))}
    return bool(words & (held - TITLES))


def pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return None
    return statistics.correlation(xs, ys)


@dataclass
class Figures:
    events: int = 0
    reached: int = 0
    in_order: int = 0
    shots: int = 0
    invented: int = 0
    lines: int = 0
    judged: int = 0
    right: int = 0
    twice: int = 0
    correlation: float | None = None
    words_a_second: tuple[float, float] = (0.0, 0.0)  # median, most
    wrong: list[str] = field(default_factory=list)  # the lines given to another, said


def measure(story: str, episodes: list[str], cast: dict[str, str]) -> Figures:
    """The figures of a season: its episode files' texts in order, its cast (key: description)."""
    lines = story.split("\n")
    shots = [s for n, text in enumerate(episodes, 1) for s in shots_of(text, n)]
    names, figures = names_of(story), Figures(shots=len(shots))
    events = [e for _, text in units(lines) for e in events_of(text, names)]
    figures.events = len(events)
    figures.reached, figures.in_order = reach(events, shots)
    castwords = {w for key, said in cast.items() for w in [*key.split("_"),
                                                          *WORD.findall(said.lower())]}
    figures.invented = sum(invented(s, lines, castwords) for s in shots)
    seen: dict[int, list[str]] = {}
    for shot in shots:
        for speaker, quote, line in shot.said:
            figures.lines += 1
            heard = seen.setdefault(shot.episode, [])
            figures.twice += flat(quote) in heard
            heard.append(flat(quote))
            name = attributed(lines, quote, line)
            if name is None:
                continue
            figures.judged += 1
            if same(name, speaker, cast):
                figures.right += 1
            else:
                figures.wrong.append(f"line {line}: {speaker} for {name}: {quote[:40]!r}")
    weights = [float(len(WORD.findall(" ".join(lines[s.first - 1: s.last])))) for s in shots]
    seconds = [s.seconds for s in shots]
    figures.correlation = pearson(seconds, weights)
    rates = [w / s for w, s in zip(weights, seconds, strict=True) if s > 0]
    if rates:
        figures.words_a_second = (statistics.median(rates), max(rates))
    return figures


def season(archive: Path) -> tuple[dict[str, Any], Figures]:
    """A kept run's ``run.json`` and its written season's figures."""
    with tempfile.TemporaryDirectory() as folder, tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("series/") or
                   m.name == "run.json"]
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder, members=members, filter="data")
        else:  # a Python before 3.11.4: the repository's own archive, as it was made
            tar.extractall(folder, members=members)
        root = Path(folder)
        run: dict[str, Any] = json.loads((root / "run.json").read_text("utf-8"))
        written = yaml.safe_load((root / "series" / "storyboard.yaml").read_text("utf-8"))
        cast = {str(k): str((v or {}).get("description", ""))
                for k, v in (written.get("characters") or {}).items()}
        episodes = [p.read_text("utf-8")
                    for p in sorted((root / "series" / "episodes").glob("*.yaml"))]
    story = (ROOT / "bench" / "corpus" / run["story"]).read_text("utf-8")
    return run, measure(story, episodes, cast)


def share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.0f}%)" if whole else "0 of 0"


def row(run: dict[str, Any], f: Figures) -> str:
    weight = "n/a (shots of one length)" if f.correlation is None else f"r {f.correlation:.2f}"
    median, most = f.words_a_second
    return (f"| {run['story'].removesuffix('.txt')}, {run.get('server', '?')} | "
            f"{share(f.reached, f.events)}; in order {share(f.in_order, f.events)} | "
            f"{share(f.invented, f.shots)} | {share(f.right, f.judged)} (of {f.lines} lines) | "
            f"{f.twice} | {weight}; {median:.1f} words/s median, {most:.1f} most |")


HEAD = ("| story, server | events reaching a shot | shots telling what their span does not | "
        "lines to the story's speaker | said twice in an episode | weight |\n"
        "|---|---|---|---|---|---|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="STEM,...: some stories only")
    parser.add_argument("--wrong", action="store_true", help="list each line to another")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    commit = subprocess.run(["git", "rev-parse", "--short=8", "HEAD"], cwd=ROOT, text=True,
                            capture_output=True, check=False).stdout.strip() or "?"
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
          f"1-min load {os.getloadavg()[0]:.2f}")
    print(HEAD)
    for archive in sorted((ROOT / "bench" / "answers").glob("corpus-*.tar.xz")):
        if only and not any(stem_ in archive.name for stem_ in only):
            continue
        run, figures = season(archive)
        print(row(run, figures))
        for said in figures.wrong if args.wrong else []:
            print(f"    {said}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
