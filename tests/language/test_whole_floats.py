"""Whole numbers written as floats (``takes: 3.0``) never make a shot vanish (issue 33.5).

Every integer field of the JSON schemas in ``schemas/`` is enumerated from the schemas themselves;
each is written as a float into a small series, and ``check`` must either keep every shot (the
value works) or report an error at that value's line. A new integer field in a schema needs a
place in ``PLACES`` below, or the first test fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.language.compile import compile_lenient
from storyboard.language.read.schemacheck import schema_dir
from storyboard.language.read.series import load_source

SERIES = """\
storyboard: 1
title: Floats
defaults: {resolution: 720P, ratio: "16:9"<defaults>}
characters:
  ada: {image: ada.png}
<cast><top>episodes:
  - id: ep01
<episode>    shots:
      - id: one
<shot>        prompt: "@ada waves"
      - id: two
        prompt: "@ada smiles"
"""

# Where each schema definition's integer field is written: the slot of SERIES it goes in, and
# the text around ``KEY: VALUE``.
PLACES: dict[str, tuple[str, str]] = {
    "defaults": ("defaults", ", KEY: VALUE"),
    "shot": ("shot", "        KEY: VALUE\n"),
    "episode": ("episode", "    KEY: VALUE\n"),
    "provider": ("top", "provider: {name: dashscope, KEY: VALUE}\n"),
    "account_limits": ("top", "provider: {name: dashscope, account_limits: {KEY: VALUE}}\n"),
    "additionalProperties": ("top", "provider: {name: dashscope, account_limits: "
                                    "{models: {wan2.7-r2v: {KEY: VALUE}}}}\n"),
    "model_limits": ("top", "models: {wan2.7-r2v: {KEY: VALUE}}\n"),
    "variations": ("top", "variations: {matrix: {seed: [1, 2]}, KEY: VALUE}\n"),
    "generate": ("cast", "  cup: {image: {generate: \"a paper cup\", kind: prop, KEY: VALUE}}\n"),
    # a designed voice (the second form of $defs/voice)
    "oneOf": ("top", "voices: {v: {design: \"a calm voice\", sample: \"Hello.\", KEY: VALUE}}\n"),
    "shot_checks": ("shot", "        checks: {KEY: VALUE}\n"),
    "boards": ("top", "boards: {KEY: VALUE}\n"),
    "breakdown": ("top", "breakdown: {KEY: VALUE}\n"),
}
# A sensible whole number for each field, written with ``.0``.
VALUES = {"duration": 5, "seed": 7, "takes": 2, "use_data_uris_below": 1000, "concurrency": 2,
          "min_duration": 2, "max_duration": 15, "max_duration_with_video": 10,
          "max_references": 5, "max_images": 5, "max_videos": 5, "max_audios": 1,
          "prompt_limit": 5000, "negative_prompt_limit": 500, "max_input_plus_output": 30,
          "max": 4, "fps": 16, "in_flight": 2, "cuts": 1, "context": 8192,
          "episodes": 80}


def integer_fields() -> Iterator[tuple[str, str]]:
    """(the definition, the field) of every ``"type": "integer"`` in the schemas."""
    for name in ("storyboard.schema.json", "episode.schema.json"):
        schema = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
        yield from _walk(schema, ())


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
            owner = path[-3] if len(path) >= 3 else "series"
            yield owner, path[-1]
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, path)


FIELDS = sorted(set(integer_fields()))


def test_every_integer_field_has_a_place_and_a_value() -> None:
    assert FIELDS, "no integer field found in the schemas"
    for owner, key in FIELDS:
        assert owner in PLACES, f"{owner}.{key}: add where it is written to PLACES"
        assert key in VALUES, f"{owner}.{key}: add a whole number for it to VALUES"


def series_text(slots: dict[str, str]) -> str:
    text = SERIES
    for slot in ("defaults", "cast", "top", "episode", "shot"):
        text = text.replace(f"<{slot}>", slots.get(slot, ""))
    return text


def write(root: Path, owner: str, key: str, make_media: Callable[..., Path]) -> int:
    """The series with ``key: N.0`` in its place; the line the value is on."""
    make_media("image", root / "ada.png", width=320, height=320)
    slot, text = PLACES[owner]
    value = f"{VALUES[key]}.0"
    series = series_text({slot: text.replace("KEY", key).replace("VALUE", value)})
    (root / "storyboard.yaml").write_text(series, encoding="utf-8")
    return next(n for n, line in enumerate(series.splitlines(), 1) if f"{key}: {value}" in line)


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "storyboard", "check", str(root)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("owner", "key"), FIELDS, ids=[f"{o}.{k}" for o, k in FIELDS])
def test_a_whole_number_written_as_a_float_works_or_is_said_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path], owner: str, key: str) -> None:
    line = write(tmp_path, owner, key, make_media)
    if owner == "variations":  # a matrix: only the CLI compiles every variation
        proc = check(tmp_path)
        assert proc.returncode != 0 or "2 shot(s)" in proc.stdout, proc.stdout + proc.stderr
        assert proc.returncode == 0 or f"storyboard.yaml:{line}:" in proc.stderr, proc.stderr
        return
    manifest, problems = compile_lenient(load_source(tmp_path))
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        assert len(manifest.shots()) == 2  # it worked: no shot vanished
        return
    at_line = [p for p in errors if p.span is not None and p.span.line == line]
    assert at_line, [(p.span, p.message) for p in errors]
    assert "without the decimal point" in at_line[0].message


@pytest.mark.parametrize("text", ["takes: 3.0", "duration: 2.0", "seed: 7.0"])
def test_the_issues_cases_through_the_real_cli(tmp_path: Path, make_media: Callable[..., Path],
                                               text: str) -> None:
    key, value = text.split(": ")
    VALUES_BACKUP = VALUES[key]
    try:
        VALUES[key] = int(float(value))
        line = write(tmp_path, "shot", key, make_media)
    finally:
        VALUES[key] = VALUES_BACKUP
    proc = check(tmp_path)
    assert proc.returncode != 0
    assert f"storyboard.yaml:{line}:" in proc.stderr and text in proc.stderr


def test_a_matrix_axis_of_whole_floats_is_said_too(tmp_path: Path,
                                                   make_media: Callable[..., Path]) -> None:
    make_media("image", tmp_path / "ada.png", width=320, height=320)
    series = series_text({"top": "variations: {matrix: {duration: [4.0, 5]}}\n"})
    (tmp_path / "storyboard.yaml").write_text(series, encoding="utf-8")
    proc = check(tmp_path)
    assert proc.returncode != 0 and "storyboard.yaml:6:" in proc.stderr
    assert "expected a whole number" in proc.stderr
