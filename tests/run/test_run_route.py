"""A render's route through ``run/`` (issue 55): one flags object and one wiring down to the runner,
one set-up holding what a run reads once, variations that carry their names."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path

from storyboard.language.variations import compile_variations
from storyboard.run.pipeline import render as render_all
from storyboard.run.setup import RenderFlags, open_run
from storyboard.run.trip import runner
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]

MATRIX_HEAD = MIA_HEAD + """\
vars: {lang: en}
variations:
  matrix:
    lang: [en, es, de]
  name: "{{ lang }}"
"""
ONE_SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves, saying hello in {{ lang }}"}
"""


def locked_variations(series: Path) -> set[str]:
    shots = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    return {str(entry["series"]).split("/", 1)[1] for entry in shots.values()}


def test_the_runner_takes_the_flags_and_the_wiring_not_a_parameter_each() -> None:
    parameters = inspect.signature(runner.render).parameters
    assert len(parameters) <= 8, list(parameters)
    assert list(parameters)[2:] == ["options", "wiring"]


def test_a_set_up_builds_its_output_cache_once(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "m", make_media, ONE_SHOT, head=MATRIX_HEAD)
    variants = compile_variations(series)
    with open_run(variants, RenderFlags(draft=True)) as setup:
        assert setup.cache is setup.cache
        assert setup.cache.cache_key == setup.provider.cache_key


def test_a_matrix_render_forgets_removed_variations_by_the_names_it_compiled(
        tmp_path: Path, make_media: MakeMedia) -> None:
    """The lock forgets a variation gone from the matrix by the names read with the series, not
    by reading and expanding every file again after the render."""
    series = write_series(tmp_path / "m", make_media, ONE_SHOT, head=MATRIX_HEAD)
    flags = RenderFlags(out=tmp_path / "out", yes=True)
    assert render_all(compile_variations(series), flags).ok
    assert locked_variations(series) == {"en", "es", "de"}
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("[en, es, de]", "[en, de]"),
                    encoding="utf-8")
    variants = compile_variations(series, select=["en"])
    assert variants.names == ("en", "de")
    yaml.write_text("title: [a file changed after the render started\n", encoding="utf-8")
    assert render_all(variants, flags).ok
    assert locked_variations(series) == {"en", "de"}


def test_a_var_override_leaves_the_names_as_the_files_write_them(
        tmp_path: Path, make_media: MakeMedia) -> None:
    head = MATRIX_HEAD.replace('name: "{{ lang }}"', 'name: "{{ lang }}-{{ cut }}"')
    series = write_series(tmp_path / "m", make_media, ONE_SHOT,
                          head=head.replace("vars: {lang: en}", "vars: {lang: en, cut: a}"))
    assert compile_variations(series).names == ("en-a", "es-a", "de-a")
    assert compile_variations(series, vars={"cut": "b"}).names == ("en-a", "es-a", "de-a")


def test_a_plain_series_renders_with_the_flags_and_the_callbacks_not_any_keyword() -> None:
    from storyboard.run.pipeline import render_series
    kinds = {p.kind for p in inspect.signature(render_series).parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert list(inspect.signature(render_series).parameters) == ["manifest", "flags", "calls"]
