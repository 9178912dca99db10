"""plainyaml against libyaml: the same Document for every text it takes, None for the rest.

The fast reader must never answer differently from the general one: a different value, span or
quoted flag would be a wrong hash or a problem shown at the wrong place. Every comparison here is
of the whole Document (data with its types, spans, key spans, quoted flags, noted floats).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.language.read import load, plainyaml
from storyboard.scaffold import yamltext

ROOT = Path(__file__).resolve().parents[2]
FILE = Path("episode.yaml")


def typed(value: Any) -> Any:
    """``value`` with each scalar's type kept (1, 1.0 and True are equal in Python)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value))


def same(text: str) -> bool:
    """Whether plainyaml took ``text``; fails when it took it and answered differently."""
    fast = plainyaml.parse(text, FILE)
    slow, problems = load.parse_general(text, FILE)
    if fast is None:
        return False
    assert not problems, f"plainyaml accepted a text libyaml refuses: {problems[0].message}"
    assert typed(fast.data) == typed(slow.data)
    assert list(fast.data.items() if isinstance(fast.data, dict) else fast.data) == \
        list(slow.data.items() if isinstance(slow.data, dict) else slow.data)  # key order
    assert fast.spans == slow.spans
    assert fast.key_spans == slow.key_spans
    assert fast.quoted == slow.quoted
    assert fast.floats == slow.floats
    assert fast.lines == slow.lines
    return True


TAKEN = [
    "a: 1\nb: two\n",
    "a:\nb: 1\n",
    "a:   # c\nb: 1\n",
    "a:\n  - \n  -\n  - x\n",
    'k: {m: "小美你好", n: 1}\nz:   "小美"\n',
    "- a: 1\n  b:\n- c\n",
    "a: [ ]\nb: { }\nc: [x,y]\n",
    'a: 2024-01-01\nb: 1_000\nc: 0x1F\nd: .5\ne: 1e3\nf: ~\ng: ""\nh: 1.0\ni: .inf\nj: -.nan\n',
    "ratio: 16:9\nt: 1:30\nyes: no\non: off\nnull: true\n",
    "shots:\n- id: s1\n  scenes:\n  - at: 0-3s\n    action: \"@mia waves\"\n- id: s2\n",
    "# top\n\na: 1 # trailing\n  # indented comment\nb: 'it''s'  # c\n",
    "a:\n    b:\n        c: [1, [2, {d: e}], {}]\n",
    "- - a\n  - b\n- - c\n",
    "-\n  a: 1\n-\n  - x\n",
    "key with spaces: v\nk2 : no\n",
    "a: x[1] y{2}\nb: 'x: y'\nc: \"# not a comment\"\nd: a#b\n",
    "a: -1\nb: -x\nc: [-1, -x]\nd: {e: -2.5}\n",
    "say: {mia: \"Line number 3.\"}\nfirst_frame: {from: s0003}\n"
    "transition: {type: crossfade, duration: 0.5}\n",
    "a: 'x' \nb: \"y\"   \n",
    "é: ü\n小: 美\n",
    'a: "two\\nlines \\"q\\" \\\\ \\t\\x41\\u00e9\\U0001F600\\/\\ \\e\\N\\_\\L\\P\\0"\n'
    "b: 'back\\slash'\nc: back\\slash\n",
]

REFUSED = [
    '', '# only a comment\n', 'plain scalar\n', 'a: &x 1\nb: *x\n', 'a: !!str 1\n',
    '<<: {a: 1}\nb: 2\n', 'x: {<<: 5}\n', 'x: {<<: {a: 1}}\n', 'a: |\n  text\n', 'a: >\n  text\n',
    'a: multi\n  line\n', 'a: "\\q"\n', 'a: "\\ud800"\n', 'a: "\\x4"\n', 'a: "end\\"\n',
    'a: "open\n  close"\n', 'a: [1,\n  2]\n', '---\na: 1\n', 'a: 1\n...\n', "'quoted': no\n",
    '%YAML 1.1\n---\na: 1\n', 'a:\t1\n', 'a: 1\r\nb: 2\r\n', 'a: 1\na: 2\n', '? a\n: b\n',
    'a: b: c\n', 'a: b:\n', 'a: 1\n b: 2\n', 'a:\n  b: 1\n c: 2\n', "a: 'x'y\n", 'a: "x"# c\n',
    'a: @mia\n', 'a: `x`\n', 'a: {b: c: d}\n', 'a: {b:c}\n', 'a: [b: c]\n', 'a: {b: [c}\n',
    'a: {b: , c: d}\n', 'a: =\n', '\ufeffa: 1\n', 'a: x\x85y\n', 'a: x\u2028y\n', 'a: x\x07\n',
    '- a\nb: 1\n', 'a: 1\n- b\n', 'a: {b: 1} x\n', '[1, 2]\n', '{a: 1}\n', 'a: 1 #c\n  - x\n',
]


@pytest.mark.parametrize("text", TAKEN)
def test_plain_texts_are_taken_and_read_as_libyaml_reads_them(text: str) -> None:
    assert same(text), "plainyaml should take this text"


@pytest.mark.parametrize("text", REFUSED)
def test_other_texts_are_left_to_libyaml(text: str) -> None:
    assert plainyaml.parse(text, FILE) is None


def test_a_deep_document_is_left_to_libyaml_which_counts_its_depth() -> None:
    deep = "".join(f"{'  ' * i}k{i}:\n" for i in range(70)) + "  " * 70 + "v: 1\n"
    assert plainyaml.parse(deep, FILE) is None
    assert load.parse(deep, FILE)[1][0].message.startswith("nested more than")


def test_every_yaml_file_of_the_project_reads_the_same() -> None:
    files = [p for p in ROOT.rglob("*.y*ml") if ".venv" not in p.parts and ".git" not in p.parts
             and "site" not in p.parts]
    assert len(files) >= 10
    taken = sum(same(p.read_text(encoding="utf-8")) for p in files)
    assert taken >= len(files) // 2, "the project's own files should mostly be plain YAML"


def test_what_init_writes_is_taken() -> None:
    quoted = yamltext.quote("@mia smiles; it's 16:9 # not a comment")
    say = yamltext.flow({"mia": "Line 1.", "sam": 2})
    text = f"id: ep1\nshots:\n  - id: s1\n    action: {quoted}\n    say: {say}\n"
    assert same(text)


def test_the_benchmark_series_is_taken(tmp_path: Path) -> None:
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_compile", ROOT / "bench" / "compile.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # the benchmark's own series, without bench/ on sys.path
    files = bench.make_series(tmp_path, 40, 2)
    assert all(same(f.read_text(encoding="utf-8")) for f in [*files, tmp_path / "storyboard.yaml"])


def test_parse_uses_the_fast_reader_and_libyaml_for_errors() -> None:
    doc, problems = load.parse("a: 1\na: 2\n", FILE)
    assert problems and "duplicate key 'a'" in problems[0].message
    assert problems[0].span.line == 2
    doc, problems = load.parse("a: [1, 2]\n", FILE)
    assert not problems and doc.data == {"a": [1, 2]}


# generated documents: random data written in random block and flow styles

WORDS = ["mia", "yes", "No", "on", "1", "-1", "1.0", "1e3", "1.5e3", ".5", "0x1F", "0o17", "017",
         "16:9", "1:30", "~", "null", "true", "2024-01-01", "a b", "x-y", "@mia", "#x", "x #y",
         "x#y", "a: b", "a:b", "- x", "-x", "it's", 'say "hi"', "[x]", "{x}", "a,b", "小美",
         "é", "", " lead", "trail ", ".inf", "-.Inf", ".NaN", "=", "<<", "?", ":", "|", ">", "*a",
         "&a", "!t", "%", "`x`", "1_000", "+5", "0.", "-0", "3:4:5", "y", "Y", "off", "NULL"]
KEYS = ["id", "<<", "a", "mia", "Mia Chen", "x-y", "yes", "1", "小美", "k_2", "at", "from"]

scalars = st.one_of(st.sampled_from(WORDS), st.integers(-5, 5), st.floats(allow_nan=False,
                    allow_infinity=False, width=16), st.booleans(), st.none())
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=25)


def scalar_text(value: Any, style: int) -> str:
    if isinstance(value, str):
        if style == 0:
            return value  # plain: often valid, sometimes not (then both must refuse alike)
        if style == 1 and "'" not in value:
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False)
    return yaml.safe_dump(value, default_flow_style=True).split("\n", 1)[0].removesuffix(" ...")


def flow(value: Any, styles: st.DataObject) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v, styles)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, styles) for v in value) + "]"
    return scalar_text(value, styles.draw(st.integers(0, 2)))


def block(value: Any, indent: int, styles: st.DataObject) -> list[str]:
    pad = " " * indent
    step = styles.draw(st.sampled_from([2, 4]))
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        head = f"{pad}{key}:" if isinstance(value, dict) else f"{pad}-"
        if isinstance(item, (dict, list)) and item and styles.draw(st.integers(0, 3)) != 0:
            lines.append(head + styles.draw(st.sampled_from(["", "  # c"])))
            same_col = isinstance(item, list) and isinstance(value, dict) and styles.draw(
                st.booleans())
            lines += block(item, indent if same_col else indent + step, styles)
        else:
            text = flow(item, styles) if isinstance(item, (dict, list)) else scalar_text(
                item, styles.draw(st.integers(0, 2)))
            comment = styles.draw(st.sampled_from(["", " # c", "  #c"]))
            lines.append(f"{head} {text}{comment}" if text else head)
    return lines


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(trees.filter(lambda t: isinstance(t, (dict, list)) and len(t) > 0), st.data())
def test_generated_documents_read_the_same(tree: Any, styles: st.DataObject) -> None:
    text = "\n".join(block(tree, 0, styles)) + "\n"
    same(text)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(trees.filter(lambda t: isinstance(t, dict) and len(t) > 0))
def test_what_pyyaml_writes_reads_the_same(tree: Any) -> None:
    for flow_style in (False, None):
        same(yaml.safe_dump(tree, default_flow_style=flow_style, allow_unicode=True,
                            sort_keys=False, width=10_000))
