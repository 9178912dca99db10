"""Test files at the top of tests/ into the folder of the package part each one tests.

    python tools/mirror_tests.py [--dry-run]

Run from anywhere inside the checkout (a git work tree). Each ``tests/test_*.py`` is placed by
``PLACES`` (an explicit name) or else by ``PREFIXES`` (the first word of its name), then moved
with ``git mv`` into ``tests/<folder>/`` (a package: an ``__init__.py`` is written if missing).
Then every text that names a moved file is rewritten:

- paths ``tests/test_x.py`` in any tracked text file (``.ci/run``, ``pyproject.toml``, ``docs/``,
  ``ARCHITECTURE.md``, ``tests/conftest.py``'s lists, docstrings), but not ``CHANGELOG.md`` (what
  was said then stays as it was said) nor ``tests/golden/`` and ``tests/data/``;
- modules ``tests.test_x`` in Python files (named in text: an import of one is refused);
- ``Path(__file__)`` in a moved file, one folder deeper: ``.parent`` and ``.parent.parent`` become
  ``.parents[1]`` and ``.parents[2]``, ``.parents[N]`` becomes ``.parents[N + 1]``.

It refuses, before it moves anything, a file no rule places, a moved file that uses ``__file__``
in any other way, an import of a test module (``from test_x import`` or ``from tests.test_x
import``), and a helper module at the top of tests/: what tests share belongs in
``tests/fixtures/``. Run again after more files land at the top of tests/: the
files already placed stay, the new ones are placed by the same rules, and paths naming any placed
file are rewritten again.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tokenize
from collections.abc import Iterable
from pathlib import Path

# The package's parts, and tests/project/ for what holds the whole project (packaging, docs, CI,
# the import graph, the examples, the public API, the package's root modules).
FOLDERS: dict[str, str] = {
    "agents": "the MCP server (storyboard/agents/)",
    "animatic": "local drawings of shots (storyboard/animatic/)",
    "breakdown": "a story into a series by a language model (storyboard/breakdown/)",
    "cli": "the command line (storyboard/cli/)",
    "dialects": "each wire dialect and its vendors (storyboard/dialects/)",
    "emulator": "the emulator and official SDKs against it (storyboard/emulator/)",
    "language": "load, check, expand, resolve, compile (storyboard/language/)",
    "media": "ffmpeg, its binaries and media facts (storyboard/media/)",
    "project": "packaging, docs, CI, the import graph, the examples, the public API",
    "providers": "who renders (storyboard/providers/)",
    "review": "the sheet, the studio, exports, notes (storyboard/review/)",
    "run": "plans, renders, takes, the journal, the lock, a team's ledger and store (storyboard/run/)",
    "scaffold": "storyboard init (storyboard/scaffold/)",
    "stitch": "episodes from shots (storyboard/stitch/)",
    "targets": "what models and gateways accept, their prices and failures (storyboard/targets/)",
}

# A name's first word(s) -> its folder; the longest prefix that matches wins ("check" matches
# test_check.py and test_check_*.py, never test_checkcache.py).
PREFIXES: dict[str, str] = {
    "agents": "agents", "mcp": "agents",
    "animatic": "animatic",
    "breakdown": "breakdown",
    "cli": "cli", "completion": "cli", "doctor": "cli", "new_user": "cli", "pipe": "cli",
    "terminal": "cli",
    "dialects": "dialects", "kling": "dialects", "minimax": "dialects", "seedance": "dialects",
    "emulator": "emulator",
    "check": "language", "checkcache": "language", "compile": "language", "continuity": "language",
    "episodecache": "language", "parsecache": "language",
    "dialogue": "language", "hostile": "language", "incremental": "language", "keeping": "language",
    "language": "language",
    "looks": "language",
    "plainyaml": "language", "ranges": "language", "template": "language",
    "validate": "language",
    "variations": "language", "whole": "language",
    "ffbinary": "media", "media": "media", "probe": "media",
    "api": "project", "bench": "project", "ci": "project", "docs": "project", "example": "project",
    "import": "project", "layering": "project", "packaging": "project", "startup": "project",
    "state": "project",
    "comfyui": "providers", "dashscope": "providers", "gateway": "providers",
    "provider": "providers", "providers": "providers",
    "export": "review", "review": "review", "sheet": "review", "studio": "review",
    "ahead": "run", "billed": "run", "boards": "run", "budget": "run", "cast": "run", "config": "run",
    "download": "run", "housekeeping": "run", "ledger": "run", "measured": "run",
    "mediacheck": "run", "money": "run", "pipeline": "run", "plan": "run", "resume": "run",
    "run": "run", "store": "run", "takes": "run", "team": "run", "webhooks": "run",
    "workers": "run",
    "fountain": "scaffold", "init": "scaffold", "scaffold": "scaffold",
    "stitch": "stitch",
    "models": "targets", "price": "targets", "prices": "targets", "targets": "targets",
}

# Names no prefix places, or places elsewhere (without ``test_`` and ``.py``).
PLACES: dict[str, str] = {
    "fixture_plugins": "project",  # the conftest's plugin modules load without the extras
    "suite_order": "project",  # the conftest deals the longest test files out first
    "bytecode_warm": "project",  # the conftest writes the test modules' bytecode once
    "spied_runs_remember_nothing": "project",  # a test spying on ffmpeg's runs empties the memo
    "tls_shared": "project",  # every HTTP client shares storyboard.tls's one context
    "boards_animatic": "animatic",  # the held boards (animatic/held.py) stitched
    "boards_breakdown": "breakdown",
    "boards_browser": "review",
    "boards_comfyui": "providers",
    "boards_compile": "language",
    "boards_example": "project",
    "boards_images": "providers",  # who makes a board: each image call and its emulator
    "boards_local": "providers",
    "boards_models": "language",  # each video model's hand-off, checked
    "boards_scaling": "providers",
    "cards": "stitch",  # title and end cards encoded like shots, for the stream-copy join
    "cast_providers": "providers",
    "check_formats": "cli",  # check --json and --format github (cli/diagnostics.py)
    "comfyui_emulator": "emulator",
    "comfyui_object_info": "emulator",  # tools/comfyui_object_info.py and the table it records
    "cost_gate": "cli",  # plan --max-cost
    "credentials_in_urls": "cli",  # no command prints a credential written inside a URL
    "errors_long_text": "language",  # a located error's quoted line, cut
    "every_ffmpeg": "media",
    "failures": "targets",  # targets/wire/failures.py, each provider's failure words
    "feedback": "cli",
    "files": "project",  # storyboard/files.py, the package's root module
    "gateway_sdks": "emulator",  # the gateways' official SDKs against the emulator
    "broken_stills": "language",  # an own still decoded whole before check accepts it
    "deadlines": "project",  # no wait for a child shorter than a loaded machine needs
    "house_rules": "project",  # no private name reached across modules, no module over 500 lines
    "folder_floors": "project",  # each folder with packages imports its floors one way
    "module_names": "project",  # a module file name shared only by one concept in parallel places
    "kind_names": "project",  # no provider kind compared by its name outside its declaration
    "provider_hooks": "project",  # a provider handed its run's hooks, never patched from outside
    "local_provider": "providers",
    "mirror_tests": "project",  # tools/mirror_tests.py
    "lock": "project",  # tools/lock.py, the test environment's lock
    "models": "language",  # one series compiled for every (model, dialect): modelcheck
    "models_check": "cli",  # storyboard models check: the declared ids against the catalogues
    "models_render": "run",
    "neutral_form": "language",  # language/request.py
    "older_ffmpeg": "media",
    "output_folder": "cli",
    "reference_urls": "language",  # a URL a service cannot fetch refused at its line
    "resolve_passes": "language",  # the resolver's declared passes, one context, one shot type
    "retry_after": "providers",  # providers/protocol.retry_after, read by every client
    "retired_models": "cli",  # a retired model refused at its line, left out of plan --compare
    "season_life": "run",  # a season's edits, renders and reads as a generated state machine
    "seedance_edit": "run",  # retake --edit on Seedance 2.5: a derived take (run/state/lock/derived.py)
    "seedance_sdk": "emulator",  # Ark's runtime SDK against the emulator
    "variations_run": "run",
    "wording": "dialects",  # each model's multi-shot wording, one series to every model
    "vendor_checks": "language",
    "vendor_models": "targets",
    "vendor_move": "language",
    "vendor_render": "run",
    "voice_sample": "language",
    "voiceover": "stitch",  # a narrator's made line mixed into the episode (stitch/series/heard.py)
}

LINE_LENGTH = 110  # pyproject's [tool.ruff] line-length
KEEP_AS_SAID = ("CHANGELOG.md",)  # history: paths there stay as they were when written
DATA = ("tests/golden/", "tests/data/")
FILE_PATH = re.compile(r"Path\(__file__\)(\.resolve\(\))?((?:\.parent(?![\w\[]))+|\.parents\[(\d+)\])")
ANY_FILE = re.compile(r"(?<![\w.])__file__")
TEST_IMPORT = re.compile(r"^\s*(?:from|import) ((?:tests\.)?test_\w+)\b", re.M)
TOP_LEVEL_OK = ("__init__.py", "conftest.py")


class Refused(Exception):
    """What stops the script before it moves anything."""


def folder_for(stem: str) -> str | None:
    """``test_run_lock`` -> ``run``: the explicit table first, then the longest matching prefix."""
    name = stem.removeprefix("test_")
    if name in PLACES:
        return PLACES[name]
    matches = [p for p in PREFIXES if name == p or name.startswith(p + "_")]
    return PREFIXES[max(matches, key=len)] if matches else None


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Refused(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def top_level_tests(root: Path) -> list[Path]:
    return sorted((root / "tests").glob("test_*.py"))


def plan_moves(root: Path) -> dict[Path, Path]:
    """Each top-level test file -> where it goes; refused whole if any is left unplaced."""
    moves: dict[Path, Path] = {}
    unplaced = []
    for path in top_level_tests(root):
        folder = folder_for(path.stem)
        if folder is None:
            unplaced.append(path.name)
        else:
            moves[path] = root / "tests" / folder / path.name
    if unplaced:
        raise Refused("no rule places " + ", ".join(unplaced) + ": add each to PLACES or "
                      "PREFIXES in tools/mirror_tests.py")
    return moves


def deeper(match: re.Match[str]) -> str:
    """A ``Path(__file__)`` ancestor, named from a file one folder deeper."""
    resolve = match.group(1) or ""
    if match.group(3) is not None:
        return f"Path(__file__){resolve}.parents[{int(match.group(3)) + 1}]"
    return f"Path(__file__){resolve}.parents[{match.group(2).count('.parent')}]"


def string_spans(text: str) -> list[tuple[int, int]]:
    """Where the string literals of Python source are (offsets): text there is data, not code."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(starts[t.start[0] - 1] + t.start[1], starts[t.end[0] - 1] + t.end[1])
            for t in tokens if t.type == tokenize.STRING]


def in_code(match: re.Match[str], strings: list[tuple[int, int]]) -> bool:
    return not any(start <= match.start() < end for start, end in strings)


def one_level_deeper(text: str) -> str:
    """Each ``Path(__file__)`` ancestor in the code (never in a string) named one level deeper."""
    strings = string_spans(text)
    return FILE_PATH.sub(lambda m: deeper(m) if in_code(m, strings) else m.group(0), text)


def odd_file_use(text: str) -> bool:
    """A ``__file__`` in the code that is not a ``Path(__file__)`` ancestor the rewrite carries."""
    strings = string_spans(text)
    carried = [(m.start(), m.end()) for m in FILE_PATH.finditer(text)]
    return any(in_code(m, strings) and not any(a <= m.start() < b for a, b in carried)
               for m in ANY_FILE.finditer(text))


def check_sources(root: Path, moves: dict[Path, Path]) -> None:
    """Refuse a ``__file__`` the rewrite cannot carry, or a test module imported by bare name."""
    problems = [f"{path.name}: __file__ used otherwise than as Path(__file__).parent(s)"
                for path in moves if odd_file_use(path.read_text("utf-8"))]
    for path in python_files(root / "tests"):
        problems += [f"{path.relative_to(root)}: imports the test module {name} (what tests share "
                     "belongs in tests/fixtures/)" for name in TEST_IMPORT.findall(path.read_text("utf-8"))]
    problems += [f"tests/{path.name}: a helper at the top of tests/ (it belongs in tests/fixtures/)"
                 for path in sorted((root / "tests").glob("*.py"))
                 if path.name not in TOP_LEVEL_OK and not path.name.startswith("test_")]
    if problems:
        raise Refused("\n".join(problems))


def python_files(tests: Path) -> Iterable[Path]:
    return sorted(p for p in tests.rglob("*.py") if "__pycache__" not in p.parts)


def check_tables() -> None:
    """Every folder a rule names is one of FOLDERS (a typo in a table is refused, not created)."""
    unknown = sorted((set(PREFIXES.values()) | set(PLACES.values())) - set(FOLDERS))
    if unknown:
        raise Refused(f"rules name folders not in FOLDERS: {', '.join(unknown)}")


def ensure_package(folder: Path, dry_run: bool) -> None:
    init = folder / "__init__.py"
    if init.exists() or dry_run:
        return
    folder.mkdir(parents=True, exist_ok=True)
    about = FOLDERS[folder.name]
    init.write_text(f'"""Tests of {about}."""\n', encoding="utf-8")


def move(root: Path, moves: dict[Path, Path], dry_run: bool) -> None:
    for source, target in moves.items():
        print(f"{source.relative_to(root)} -> {target.relative_to(root)}")
        ensure_package(target.parent, dry_run)
        if not dry_run:
            git(root, "add", str(target.parent / "__init__.py"))
            git(root, "mv", str(source), str(target))
            text = target.read_text(encoding="utf-8")
            target.write_text(one_level_deeper(text), encoding="utf-8")


def placed(root: Path) -> dict[str, str]:
    """Every test file in a folder of tests/: its name -> its path from the root."""
    found: dict[str, list[str]] = {}
    for path in sorted((root / "tests").glob("*/test_*.py")):
        found.setdefault(path.name, []).append(path.relative_to(root).as_posix())
    return {name: paths[0] for name, paths in found.items() if len(paths) == 1}


def rewrite_text(text: str, where: dict[str, str], python: bool) -> str:
    """Paths ``tests/test_x.py`` and, in Python, modules ``tests.test_x``, to where they are now."""
    def path(m: re.Match[str]) -> str:
        return where.get(m.group(1), m.group(0))

    def module(m: re.Match[str]) -> str:
        found = where.get(m.group(1) + ".py")
        return found.removesuffix(".py").replace("/", ".") if found else m.group(0)
    text = re.sub(r"(?<![\w/.])tests/(test_\w+\.py)\b", path, text)
    if python:
        text = re.sub(r"(?<![\w.])tests\.(test_\w+)\b", module, text)
    return text


def text_files(root: Path) -> list[Path]:
    names = git(root, "ls-files").splitlines()
    keep = [n for n in names if n not in KEEP_AS_SAID and not n.startswith(DATA)]
    return [root / n for n in keep if (root / n).is_file()]


def rewrite_paths(root: Path, dry_run: bool) -> list[str]:
    """Rewrite every tracked text naming a placed test file; the files changed, from the root."""
    where = placed(root)
    changed = []
    for path in text_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_text(text, where, path.suffix == ".py")
        if new != text:
            changed.append(path.relative_to(root).as_posix())
            if not dry_run:
                path.write_text(new, encoding="utf-8")
    return changed


def long_lines(root: Path, changed: list[str]) -> list[str]:
    """``file:line`` of each Python line a rewrite made longer than ruff allows."""
    return [f"{name}:{number}" for name in changed if name.endswith(".py")
            for number, line in enumerate((root / name).read_text("utf-8").splitlines(), 1)
            if len(line) > LINE_LENGTH and "tests/" in line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would move; change nothing")
    args = parser.parse_args(argv)
    root = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
    try:
        check_tables()
        moves = plan_moves(root)
        check_sources(root, moves)
        move(root, moves, args.dry_run)
        changed = rewrite_paths(root, args.dry_run) if not args.dry_run else []
    except Refused as refused:
        print(f"mirror_tests: refused, nothing moved:\n{refused}", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"{len(moves)} files would move (nothing changed)")
        return 0
    print(f"{len(moves)} files moved; paths rewritten in {len(changed)} files")
    print("".join(f"  {name}\n" for name in changed), end="")
    for line in long_lines(root, changed):
        print(f"warning: {line}: longer than {LINE_LENGTH} characters now (ruff's limit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
