"""Hostile templates under a memory limit: every one is a located error in well under a second.

Each template below would, without the caps in ``storyboard.language.expansion.caps`` and ``sandbox``, build
strings of gigabytes (doubling with ``~``, ``+``, ``%``, ``format``; widths; ``tojson`` indents;
``bytes``), recurse in the parser (deep nesting) or enumerate a huge matrix. They all run in one
child process limited to about 1 GB of address space (``RLIMIT_AS``), so a ``MemoryError`` or a
hang fails the test instead of taking the test runner down. "A second" is the child's own CPU
time (``time.process_time``), not the wall clock: other processes on the machine (a parallel test
worker) cannot make it fail, and a template that does the work it should not does, at any load.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.matrix import problems, series

MakeMedia = Callable[..., Path]
BIG = "{% set s = 'a' * 20000 %}"
DOUBLED = "".join("{% set s = " + step + " %}" for step in ["s ~ s"] * 40)


def doubling(step: str) -> str:
    return BIG + "".join("{% set s = " + step + " %}" for _ in range(40)) + "{{ s|length }}"


HOSTILE: dict[str, tuple[str, str]] = {
    "concat doubling": (doubling("s ~ s"), "joining these texts"),
    "plus doubling": (doubling("s + s"), "this '\\+'"),
    "percent doubling": (doubling("'%s%s' % (s, s)"), "over the cap"),
    "format doubling": (doubling("'{}{}'.format(s, s)"), "over the cap"),
    "format_map doubling": (doubling("'{a}{a}'.format_map({'a': s})"), "over the cap"),
    "namespace doubling": ("{% set ns = namespace(s='a' * 20000) %}{% for i in range(40) %}"
                           "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
                           "joining these texts"),
    "format width": ("{{ '{:>999999999}'.format(1) }}", "over the cap"),
    "nested format width": ("{{ '{:{}}'.format(1, 999999999) }}", "over the cap"),
    "star width": ("{{ '%*d' % (999999999, 1) }}", "over the cap"),
    "format filter star": ("{{ '%*d'|format(999999999, 1) }}", "over the cap"),
    "bytes": ("{{ ('x'.encode('utf-8') * 999999999)|length }}", "over the cap"),
    "tojson indent": ("{{ ([[1]] * 2000)|tojson(indent=20000) }}", "tojson"),
    "list as text": ("{{ (['x' * 20000] * 20000)|string|length }}", "over the cap"),
    "list printed": ("{{ ['x' * 20000] * 20000 }}", "over the cap"),
    "pprint": ("{{ (['x' * 20000] * 20000)|pprint|length }}", "over the cap"),
    "percent of a list": ("{{ ('%s' % (['x' * 20000] * 20000,))|length }}", "over the cap"),
    "captured block": (BIG + "{% set t %}{% for i in range(20000) %}{{ s }}{% endfor %}"
                       "{% endset %}{{ t|length }}", "joining these texts"),
    "macro output": (BIG + "{% macro m() %}{% for i in range(20000) %}{{ s }}{% endfor %}"
                     "{% endmacro %}{{ m()|length }}", "joining these texts"),
    "sum of lists": ("{{ ([[1] * 20000] * 20000)|sum(start=[])|length }}", "over the cap"),
    "wordwrap": ("{{ ('x' * 20000)|wordwrap(1, wrapstring='y' * 20000)|length }}",
                 "over the cap"),
    "join of lists": ("{{ ([['x' * 20000] * 20000] * 2)|join|length }}", "over the cap"),
    "many capped strings": ("{% set l = ['x' * 20000] * 20000 %}{% set a = l|map('upper')|list %}"
                            "{% set b = l|map('title')|list %}{% set c = l|map('lower')|list %}"
                            "{{ a|length + b|length + c|length }}", "one value's memory"),
    "parentheses": ("{{ " + "(" * 100_000 + "1" + ")" * 100_000 + " }}", "nesting"),
    "lists": ("{{ " + "[" * 100_000 + "]" * 100_000 + " }}", "nesting"),
    "filter chain": ("{{ 1" + "|string" * 20_000 + " }}", "nesting"),
    "operator chain": ("{{ 1" + " + 1" * 50_000 + " }}", "nesting"),
    "short operator chain": ("{{ 1" + " + 1" * 199 + " }}", "nesting"),  # Python's own limit
    "not chain": ("{{ " + "not " * 50_000 + "1 }}", "nesting"),
    "blocks": ("{% if 1 %}" * 5_000 + "x" + "{% endif %}" * 5_000, "nesting"),
    "block sets": ("{% set a %}" * 3_000 + "x" + "{% endset %}" * 3_000, "nesting"),
}

MATRICES: dict[str, tuple[str, str]] = {
    "huge product": (
        "variations:\n  max: 1000000000\n  matrix: {"
        + ", ".join(f"{axis}: {list(range(10))}" for axis in "abcdefghijkl") + "}\n",
        "variations.max 1,000,000,000 is over the cap"),
    "huge product under the cap": (
        "variations:\n  max: 10000\n  matrix: {"
        + ", ".join(f"{axis}: {list(range(10))}" for axis in "abcdefghijkl") + "}\n",
        "the matrix has more than 1,000,000 combinations; expected at most 10000 variations "
        "(it has 1,000,000,000,000"),
    "quadratic exclude": (
        "variations:\n  max: 10000\n  matrix: {"
        + ", ".join(f"{axis}: {list(range(10))}" for axis in "abcdef") + "}\n"
        + "  exclude: [" + ", ".join(["{a: 99}"] * 2_000) + "]\n", "comparisons"),
    "quadratic include": (
        "variations:\n  max: 10000\n  matrix: {"
        + ", ".join(f"{axis}: {list(range(10))}" for axis in "abcde") + "}\n"
        + "  include: [" + ", ".join(["{z: 1}"] * 2_000) + "]\n", "comparisons"),
}

CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
resource.setrlimit(resource.RLIMIT_CPU, (60, 60))  # a runaway template: killed after 60 s of CPU
from storyboard.errors import ProblemsFound
from storyboard.language.variations import compile_variations
answers = {}
for name, root in json.loads(sys.argv[1]).items():
    started = time.process_time()  # this process's CPU time: the load of the machine is not in it
    try:
        found = compile_variations(root).diagnostics()
    except ProblemsFound as error:
        found = error.diagnostics
    except BaseException as exc:  # what the test must never see
        found, answers[name] = [], [f"RAISED {type(exc).__name__}: {str(exc)[:200]}"]
    answers.setdefault(name, [f"{d.span.file.rsplit('/', 1)[-1]}:{d.span.line}:{d.span.col}: "
                              f"{d.message}" for d in found if d.severity == "error" and d.span])
    answers[name].append(time.process_time() - started)
print(json.dumps(answers))
"""


def run_all(roots: dict[str, Path], make_media: MakeMedia) -> dict[str, list[object]]:
    """Each series compiled in one limited child, after a clean one (imports, media probes). The
    child's CPU is capped (``RLIMIT_CPU``); the wall-clock timeout only bounds a hang, so it is
    generous: a loaded machine (two workers and more) once took past 60 s for 13 s of CPU."""
    clean = series(next(iter(roots.values())).parent / "clean", make_media, "vars: {}\n")
    named = {"clean": str(clean), **{k: str(v) for k, v in roots.items()}}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(named)],
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers: dict[str, list[object]] = json.loads(proc.stdout)
    return answers


def test_hostile_templates_are_located_errors_in_well_under_a_second(
        tmp_path: Path, make_media: MakeMedia) -> None:
    roots = {}
    for index, (name, (text, _)) in enumerate(HOSTILE.items()):
        episodes = f"- id: ad\n  shots:\n    - id: a\n      prompt: {json.dumps('@mia ' + text)}\n"
        roots[name] = series(tmp_path / f"s{index}", make_media, "vars: {product: espresso}\n",
                             episodes)
    answers = run_all(roots, make_media)
    wrong = {}
    for name, (_, says) in HOSTILE.items():
        *found, seconds = answers[name]
        if not (found and str(found[0]).startswith("storyboard.yaml:13:17: ")
                and any(re.search(says, str(line)) for line in found)
                and float(str(seconds)) < 1.0):
            wrong[name] = (found, seconds)
    assert not wrong, wrong


def test_hostile_matrices_are_refused_before_they_are_enumerated(
        tmp_path: Path, make_media: MakeMedia) -> None:
    roots = {name: series(tmp_path / f"m{index}", make_media, textwrap.dedent(body))
             for index, (name, (body, _)) in enumerate(MATRICES.items())}
    answers = run_all(roots, make_media)
    for name, (_, says) in MATRICES.items():
        *found, seconds = answers[name]
        assert found and all(str(f).startswith("storyboard.yaml:") for f in found), (name, found)
        assert any(says in str(line) for line in found), (name, found)
        assert float(str(seconds)) < 1.0, (name, seconds)


@pytest.mark.parametrize("prompt", [
    "{{ items|map(attribute='nope')|list }}",
    "{{ items|map(attribute='nope')|join(', ') }}",
    "{{ items|map(attribute='nope')|list|tojson }}",
    "{{ (items|map(attribute='nope')|list)|string }}",
    "{{ '%s' % (items|map(attribute='nope')|list,) }}",
    "{{ 'x' ~ (items|map(attribute='nope')|list) }}",
    "{{ [missing] }}",
    "{{ {'a': [missing]} }}",
    "{% set ns = namespace(v=[missing]) %}{{ ns.v }}",
])
def test_an_undefined_value_anywhere_is_a_located_error(tmp_path: Path, make_media: MakeMedia,
                                                        prompt: str) -> None:
    episodes = f"- id: ad\n  shots:\n    - id: a\n      prompt: {json.dumps('@mia ' + prompt)}\n"
    root = series(tmp_path / "ad", make_media, "vars: {items: [{a: 1}]}\n", episodes)
    found = problems(root)
    assert found and found[0].startswith("storyboard.yaml:13:17: "), found
    assert re.search(r"has no attribute 'nope'|'missing' is not defined", found[0]), found
