"""The schema validators' compiled code is kept between processes (issue 66.6): a new process
loads it instead of compiling a megabyte of fastjsonschema's source again; a damaged, foreign or
unwritable cache only costs the compile, never a wrong answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fastjsonschema
import pytest

from storyboard.language.read import schemacode
from storyboard.language.read.schemacheck import SERIES_SCHEMA, _schemas

SCHEMA = {"type": "object", "properties": {"takes": {"type": "integer", "minimum": 1}},
          "additionalProperties": False}


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "storyboard" / "validators"


def never_compiled(_definition: object) -> None:
    raise AssertionError("compiled again: the kept code was not used")


def test_the_code_is_kept_and_a_second_validator_loads_it(
        cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = schemacode.validator(SCHEMA)
    assert [p.name for p in cache_home.iterdir()] == [schemacode.cache_file(SCHEMA).name]
    monkeypatch.setattr(schemacode, "compiled", never_compiled)
    second = schemacode.validator(SCHEMA)
    for check in (first, second):
        check({"takes": 2})
        with pytest.raises(fastjsonschema.JsonSchemaException):
            check({"takes": 0})
        with pytest.raises(fastjsonschema.JsonSchemaException):
            check({"take": 2})


def test_another_schema_is_another_file() -> None:
    other = {**SCHEMA, "required": ["takes"]}
    assert schemacode.cache_file(other) != schemacode.cache_file(SCHEMA)
    schemacode.validator(SCHEMA)
    with pytest.raises(fastjsonschema.JsonSchemaException):
        schemacode.validator(other)({})


@pytest.mark.parametrize("damage", [b"", b"not code at all", "cut"])
def test_a_damaged_file_is_compiled_anew_and_replaced(damage: bytes | str) -> None:
    schemacode.validator(SCHEMA)
    kept = schemacode.cache_file(SCHEMA)
    whole = kept.read_bytes()
    kept.write_bytes(whole[: len(whole) // 2] if damage == "cut" else damage)  # type: ignore[operator]
    check = schemacode.validator(SCHEMA)
    with pytest.raises(fastjsonschema.JsonSchemaException):
        check({"takes": 0})
    assert kept.read_bytes() == whole


def test_a_sealed_file_of_something_else_is_not_run() -> None:
    import hashlib
    import marshal
    schemacode.validator(SCHEMA)
    kept = schemacode.cache_file(SCHEMA)
    body = marshal.dumps(("not", "a code object"))
    kept.write_bytes(hashlib.sha256(body).digest() + body)
    schemacode.validator(SCHEMA)({"takes": 1})
    assert kept.read_bytes() != hashlib.sha256(body).digest() + body


def test_a_cache_that_cannot_be_written_only_costs_the_compile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    check = schemacode.validator(SCHEMA)
    with pytest.raises(fastjsonschema.JsonSchemaException):
        check({"takes": 0})


def test_a_new_process_checks_a_series_from_the_kept_code(tmp_path: Path) -> None:
    """The check's own validators: the first process keeps them, the next never compiles."""
    script = (
        "import sys\nfrom pathlib import Path\n"
        "from storyboard.language.read import schemacode, schemacheck\n"
        "from storyboard.language.document import Document\n"
        "if sys.argv[1] == 'again':\n"
        "    schemacode.compiled = None  # calling it would fail\n"
        "doc = Document(Path('s.yaml'), {'storyboard': 1, 'title': 'T'}, [])\n"
        "print(schemacheck.check_schema(doc, schemacheck.SERIES_SCHEMA))\n")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(Path(schemacode.__file__).parents[3])}
    for turn in ("first", "again"):
        done = subprocess.run([sys.executable, "-c", script, turn], env=env,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
    assert schemacode.cache_file(_schemas()[SERIES_SCHEMA]).name in {
        p.name for p in (tmp_path / "cache" / "storyboard" / "validators").iterdir()}


def test_the_code_is_trimmed_for_a_yes_or_no_and_refuses_the_same() -> None:
    """A sub-schema's call gets its caller's name as it is (no ``format(**locals())`` a shot and
    a scene: half the yes/no's time), and each regular expression is compiled when first used;
    what it refuses deep in a list is refused still."""
    series = _schemas()[SERIES_SCHEMA]
    episode = {"$ref": "#/$defs/episode", "$defs": series["$defs"]}
    source = fastjsonschema.compile_to_code(episode, use_default=False)
    calls = [line for line in source.splitlines()
             if "format(**locals())" in line and "raise" not in line]
    assert calls, "fastjsonschema no longer formats its callers' names: drop the trim"
    trimmed = schemacode.trimmed(source)
    assert not [line for line in trimmed.splitlines()
                if "format(**locals())" in line and "raise" not in line]
    assert "REGEX_PATTERNS = {" not in trimmed
    check = schemacode.validator(episode)
    patterns = check.__globals__["REGEX_PATTERNS"]  # type: ignore[attr-defined]
    assert len(patterns) == 0  # none compiled yet
    scene = {"at": "0-3s", "action": "@mia waves"}
    good = {"id": "ep1", "shots": [{"id": "s1", "scenes": [scene]}, {"id": "s2", "prompt": "x"}]}
    check(good)
    assert 0 < len(patterns) < len(check.__globals__["_SOURCES"])  # type: ignore[attr-defined]
    for bad in ({**good, "shots": [good["shots"][0], {"id": "bad id!", "prompt": "x"}]},
                {**good, "shots": [{"id": "s1", "scenes": [scene, {"at": 3}]}]}):
        with pytest.raises(fastjsonschema.JsonSchemaException):
            check(bad)
