"""The corpus's kept runs (bench/answers/corpus-*.tar.xz) with the series today's writer makes.

A kept run holds a real model's answers, the run's record (``run.json``) and the series the run
wrote. The suite replays each with no server and holds the series and figures it writes equal to
the kept ones (``tests/breakdown/test_breakdown_corpus_replay.py``). When the writer changes on
purpose, this replays each run, and where its series changed, keeps the new series and figures
beside the same answers (checked the same, file by file) and the same record otherwise: the
answers, the calls, tokens, wall time and repairs of the run are never changed.

    python3 tools/rewrite_kept.py [--check]   # --check: say which would change, write nothing
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.corpus import (  # noqa: E402
    ANSWERS,
    CORPUS,
    figures,
    keep,
    replayed,
    table,
    unpack,
    written,
)

KEY_ENV = "BENCH_LOCAL_KEY"
BASE_URL = "base_url:"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def rewritten(archive: Path, write: bool) -> bool:
    """Whether today's writer makes another series of ``archive``'s answers (kept, ``write``)."""
    with tempfile.TemporaryDirectory() as folder:
        series, run = unpack(archive, Path(folder) / "replay")
        code, _said, report = replayed(run["story"], series)
        if code != run["exit"] or report["sent"] != 0:
            raise SystemExit(f"{archive.name}: replayed with exit {code} and "
                             f"{report['sent']} call(s) sent: not rewritten")
        kept = Path(folder) / "replay" / "kept"
        answers = series / ".storyboard" / "breakdown" / "answers"
        if _files(answers) != _files(kept / "answers"):
            raise SystemExit(f"{archive.name}: the replay changed its answers: not rewritten")
        if written(series) == written(kept / "series"):
            return False
        if write:
            _keep_endpoint(kept / "series" / "storyboard.yaml", series / "storyboard.yaml")
            entry = next(e for e in table()["stories"] if e["file"] == run["story"])
            run["figures"] = figures(CORPUS / run["story"], series, entry["episodes"],
                                     run["figures"]["seconds_asked"])  # as the run kept it
            keep(series, run, archive)
        return True


def _keep_endpoint(kept: Path, path: Path) -> None:
    """``path``'s ``base_url:`` line as the kept file has it: the endpoint the run asked, not
    the replay's."""
    base = [line for line in kept.read_text("utf-8").splitlines()
            if line.lstrip().startswith(BASE_URL)]
    if base:
        path.write_text("\n".join(base[0] if line.lstrip().startswith(BASE_URL) else line
                                  for line in path.read_text("utf-8").splitlines()) + "\n",
                        "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="say which would change only")
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV, "none")
    changed = [a.name for a in sorted(ANSWERS.glob("corpus-*.tar.xz"))
               if rewritten(a, not args.check)]
    for name in changed:
        print(f"{'would rewrite' if args.check else 'rewrote'} {name}")
    print(f"{len(changed)} of {len(list(ANSWERS.glob('corpus-*.tar.xz')))} kept runs changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
