"""Templated values, the variations matrix and shot templates: what they make and every bad input.

The language is exercised through the public API (``storyboard.run.variations`` and ``storyboard.check``)
and the CLI on small series written by each test; every bad input must come back as a located
diagnostic (``file:line:col`` and a clear expectation), never a traceback or a hang.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import storyboard
from storyboard.cli import cli
from storyboard.errors import StoryboardError
from storyboard.language.variations import Variants, compile_variations
from tests.fixtures.matrix import EPISODE, HEAD, MATRIX, MakeMedia, problems, series


def one(found: list[str], pattern: str) -> str:
    hits = [p for p in found if re.search(pattern, p)]
    assert hits, f"no problem matches {pattern!r} in {found}"
    return hits[0]


def shots(variants: Variants) -> dict[str, dict[str, Any]]:
    return {s.series.split("/", 1)[1] + "/" + s.id: {"prompt": s.request.prompt,
                                                     "ratio": s.request.ratio, "hash": s.hash}
            for s in variants.shots()}


# --- the matrix ----------------------------------------------------------------------------------


def test_matrix_exclude_names_and_defaults(tmp_path: Path, make_media: MakeMedia) -> None:
    head = HEAD.replace("title: Ad", 'title: "Ad {{ product }}"')
    variants = compile_variations(series(tmp_path / "ad", make_media, head=head))
    names = [v.name for v in variants.variants]
    assert names == ["espresso-en-9x16", "espresso-en-16x9", "espresso-es-9x16",
                     "espresso-es-16x9", "latte-en-9x16", "latte-en-16x9"]
    made = shots(variants)
    assert made["latte-en-16x9/pitch"]["prompt"] == "Image 1 holds a latte and speaks en"
    assert made["espresso-es-9x16/pitch"]["ratio"] == "9:16"  # the ratio axis sets the default
    assert variants.manifests[0].title == "Ad espresso"
    assert variants.manifests[0].name == "ad/espresso-en-9x16"
    # the hook names neither product nor language: one hash per ratio
    hooks = {v["hash"] for k, v in made.items() if k.endswith("/hook")}
    assert len(hooks) == 2
    assert len({v["hash"] for v in made.values()}) == 2 + 6


def test_include_extends_or_adds_like_github_actions(tmp_path: Path, make_media: MakeMedia
                                                     ) -> None:
    body = """\
    vars: {tagline: plain}
    variations:
      matrix: {product: [espresso, latte], lang: [en]}
      include:
        - {product: latte, tagline: creamy}
        - {product: mocha, lang: en}
        - {lang: en, duration: 3}
      name: "{{ product }}-{{ lang }}"
    """
    episodes = """\
    - id: ad
      shots:
        - {id: pitch, prompt: "@mia: {{ product }} is {{ tagline }}"}
    """
    variants = compile_variations(series(tmp_path / "ad", make_media, body, episodes))
    made = {v.name: v.manifest.shots()[0].request for v in variants.variants if v.manifest}
    assert list(made) == ["espresso-en", "latte-en", "mocha-en"]
    assert made["latte-en"].prompt.endswith("latte is creamy")  # extended
    assert made["espresso-en"].prompt.endswith("espresso is plain")
    assert made["mocha-en"].prompt.endswith("mocha is plain")  # added
    assert made["espresso-en"].duration == 3 and made["latte-en"].duration == 3


def test_axis_values_may_be_mappings(tmp_path: Path, make_media: MakeMedia) -> None:
    body = """\
    variations:
      matrix:
        format:
          - {name: story, ratio: "9:16", vars: {frame: tall}}
          - {name: wide, ratio: "16:9", duration: 4, vars: {frame: wide}}
    """
    episodes = """\
    - id: ad
      shots:
        - {id: a, prompt: "@mia in a {{ frame }} frame ({{ format.name }})"}
    """
    variants = compile_variations(series(tmp_path / "ad", make_media, body, episodes))
    made = {v.name: v.manifest.shots()[0].request for v in variants.variants if v.manifest}
    assert list(made) == ["story", "wide"]
    assert made["story"].ratio == "9:16" and made["wide"].ratio == "16:9"
    assert made["wide"].duration == 4
    assert made["story"].prompt == "Image 1 in a tall frame (story)"


def test_var_overrides_and_selection(tmp_path: Path, make_media: MakeMedia) -> None:
    root = series(tmp_path / "ad", make_media)
    chosen = compile_variations(root, select=["latte-*", "espresso-es-9x16"])
    assert [v.name for v in chosen.variants] == ["espresso-es-9x16", "latte-en-9x16",
                                                 "latte-en-16x9"]
    with pytest.raises(StoryboardError, match=r"no variation matches 'late-\*'.*latte"):
        compile_variations(root, select=["late-*"])
    plain = series(tmp_path / "plain", make_media, "vars: {product: espresso, lang: en}\n")
    manifest = compile_variations(plain, vars={"product": "mocha"}).manifests[0]
    assert "holds a mocha" in manifest.shots()[1].request.prompt
    assert manifest.name == "plain"  # no matrix: the series' own name, as before


def test_a_series_without_templates_compiles_as_before(tmp_path: Path,
                                                       make_media: MakeMedia) -> None:
    root = series(tmp_path / "plain", make_media, "", """\
    - id: ad
      shots:
        - {id: hook, prompt: "@cup spins"}
    """)
    source = storyboard.load(root)
    from storyboard.language.expansion.expand import expand_one
    assert expand_one(source).series is source.series  # passed through untouched
    assert storyboard.compile(root).shots()[0].request.prompt == "Image 1 spins"


def test_a_file_without_template_text_is_not_walked_and_an_escaped_one_is(
        tmp_path: Path, make_media: MakeMedia, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.language.expansion import expand
    root = series(tmp_path / "plain", make_media, "vars: {n: 2}\n", """\
    - id: ad
      shots:
        - {id: hook, prompt: "@cup spins {n}"}
    """)
    walk = expand._collect
    walked: list[object] = []
    monkeypatch.setattr(expand, "_collect", lambda value, *a, **k: (
        walked.append(value), walk(value, *a, **k))[1])
    assert storyboard.compile(root).shots()[0].request.prompt == "Image 1 spins {n}"
    assert walked == []  # its text has no "{{", "{%", "{#" nor escape: nothing to look for
    text = (root / "storyboard.yaml").read_text().replace("spins {n}", "spins \\x7b{ n }}")
    (root / "storyboard.yaml").write_text(text)  # "{{" spelled with an escape: still rendered
    assert storyboard.compile(root).shots()[0].request.prompt == "Image 1 spins 2"
    assert walked


def test_one_selected_variation_does_not_call_the_others_products_unused(
        tmp_path: Path, make_media: MakeMedia) -> None:
    """A product only other variations mention is not "never used" under ``--variation``: the
    unselected variations may use it. Unused in every variation, it is said by a full check."""
    episodes = EPISODE.replace("@mia holds a {{ product }}", "@{{ product }} with @mia")
    head = HEAD + "  espresso: {image: media/cup.png}\n  latte: {image: media/cup.png}\n"
    root = series(tmp_path / "ad", make_media, MATRIX, episodes, head=head)
    for selected in (["latte-en-9x16"], ["espresso-*"], None):
        found = CliRunner().invoke(cli, ["check", str(root)] + [
            a for name in selected or [] for a in ("--variation", name)])
        assert found.exit_code == 0, found.output
        assert "'latte' is never used" not in found.output, selected
        assert "'espresso' is never used" not in found.output, selected
    assert "'guitar' is never used" in CliRunner().invoke(cli, ["check", str(root)]).output


def test_the_cli_across_variations(tmp_path: Path, make_media: MakeMedia) -> None:
    root = series(tmp_path / "ad", make_media)
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 0, result.output
    assert "ok: 6 variation(s), 6 episode(s), 12 shot(s), 8 distinct after sharing" in result.output
    result = CliRunner().invoke(cli, ["compile", str(root), "--variation", "latte-*"])
    data = json.loads(result.stdout)
    assert [v["name"] for v in data["variations"]] == ["latte-en-9x16", "latte-en-16x9"]
    result = CliRunner().invoke(cli, ["check", str(root), "--variation", "nope"])
    assert result.exit_code == 2 and "no variation matches 'nope'" in result.output
    result = CliRunner().invoke(cli, ["check", str(root), "--var", "oops"])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


# --- templated values: bad input -------------------------------------------------------------------


@pytest.mark.parametrize(("prompt", "pattern"), [
    ("{{ flavour }}", r"'flavour' is not defined; expected a name defined in 'vars'"),
    ("{{ product }", r"template syntax error"),
    ("{{ ''.__class__.__mro__ }}", r"not allowed in a template: access to attribute '__class__'"),
    ("{{ cycler.__init__.__globals__.os }}", r"'cycler' is not defined|not allowed"),
    ("{{ product|attr('format') }}", r"No filter named 'attr'"),
    ("{{ '{0.__class__}'.format(product) }}", r"not allowed in a template"),
    ("{{ product.format }}", r"not a function or a method"),
    ("{{ os.system('true') }}", r"'os' is not defined"),
    ("{{ 'a' * 10**8 }}", r"repeating 1 item\(s\) 100000000 times is over the cap of 20,000"),
    ("{{ 7 ** 2000000 }}", r"7 \*\* 2000000 has more than 4096 bits"),
    ("{{ 'x'.ljust(10**9) }}", r"the number 1000000000 is over the cap"),
    ("{{ 'x'|center(10**9) }}", r"the number 1000000000 is over the cap"),
    ("{{ '%0999999999d' % 1 }}", r"format width of 999999999 is over the cap"),
    ("{{ '%.999999999f'|format(1) }}", r"format width of 999999999 is over the cap"),
    ("{{ '%s and %s'|format(product, 'milk') }} {{ 'x'|indent(10**7) }}", r"10000000 is over"),
    ("{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}",
     r"more than 100,000 loop steps and calls \(the cap on one value's work\)"),
    ("{% for i in range(20000) %}{{ 'xx' }}{% endfor %}",
     r"longer than 20,000 characters \(the cap on one value\)"),
    ("{{ 1 / 0 }}", r"ZeroDivisionError"),
    ("{{ ('a' * 20000).replace('a', 'a' * 20000) }}", r"400,000,000 characters or items, over"),
    ("{{ ('a' * 20000) | replace('a', 'a' * 20000) }}", r"400,000,000 characters or items"),
    ("{{ (['x' * 20000] * 20000) | join }}", r"400,000,000 characters or items"),
    ("{{ ('y' * 20000).join('x' * 20000) }}", r"400,000,000 characters or items"),
    ("{{ ('\n' * 20000) | indent(20000) }}", r"400,040,000 characters or items"),
])
def test_a_bad_template_is_located(tmp_path: Path, make_media: MakeMedia, prompt: str,
                                   pattern: str) -> None:
    episodes = f"- id: ad\n  shots:\n    - id: a\n      prompt: {json.dumps('@mia ' + prompt)}\n"
    root = series(tmp_path / "ad", make_media, "vars: {product: espresso}\n", episodes)
    started = time.monotonic()
    found = problems(root)
    assert time.monotonic() - started < 20, "a template cap did not stop the work"
    line = one(found, pattern)
    assert line.startswith("storyboard.yaml:13:17: "), line  # the scalar's own place
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_big_numbers_are_fine_as_values(tmp_path: Path, make_media: MakeMedia) -> None:
    episodes = ("- id: ad\n  shots:\n    - id: a\n      prompt: \"@mia {{ n | string }} "
                "{{ '%d' | format(n) }} {{ '{:,}'.format(n) }} {{ 'ab'.replace('a', 'b', n) }}\"\n")
    root = series(tmp_path / "ad", make_media, "vars: {n: 1234567}\n", episodes)
    assert storyboard.compile(root).shots()[0].request.prompt == (
        "Image 1 1234567 1234567 1,234,567 bb")


def test_the_line_inside_a_block_scalar(tmp_path: Path, make_media: MakeMedia) -> None:
    episodes = """\
    - id: ad
      shots:
        - id: a
          prompt: |
            @mia walks in.
            She orders a {{ flavor }}.
    """
    root = series(tmp_path / "ad", make_media, "vars: {flavour: latte}\n", episodes)
    line = one(problems(root), "'flavor' is not defined")
    assert line.startswith("storyboard.yaml:15:11: ") and "(line 2 of the value)" in line


def test_the_total_work_is_bounded(tmp_path: Path, make_media: MakeMedia,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.language.expansion import sandbox
    monkeypatch.setattr(sandbox, "MAX_TOTAL_STEPS", 5_000)  # small, so the test stays fast
    loop = "{% for i in range(900) %}{% endfor %}"
    shot_list = "".join(f"    - {{id: s{i}, prompt: \"@mia {i} {loop}\"}}\n" for i in range(8))
    root = series(tmp_path / "ad", make_media, "vars: {}\n", "- id: ad\n  shots:\n" + shot_list)
    one(problems(root), r"more than 5,000 loop steps and calls in all \(the cap on the total")


# --- the matrix: bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "pattern"), [
    ("variations:\n  matrix: {product: [], lang: [en]}\n",
     r"storyboard.yaml:9:21: matrix axis 'product' has no values"),
    ("variations:\n  matrix: {product: [a, b]}\n  exclude: [{prodcut: a}]\n",
     r"storyboard.yaml:10:14: exclude names an unknown axis 'prodcut' \(did you mean 'product'\?\)"),
    ("variations:\n  matrix: {product: [a, b], lang: [en, es]}\n  name: \"{{ product }}\"\n",
     r"storyboard.yaml:10:9: two variations are named 'a': \{product: a, lang: en\} and "
     r"\{product: a, lang: es\}"),
    ("variations:\n  matrix: {product: [a, ../b]}\n  name: \"{{ product }}\"\n",
     r"storyboard.yaml:10:9: variation name '../b' .* is not safe as a folder name"),
    ("variations:\n  matrix: {product: [a, b/c]}\n  name: \"{{ product }}\"\n",
     r"variation name 'b/c' .* not safe as a folder name; expected .*no '/'"),
    ("variations:\n  matrix: {a: [1, 2, 3], b: [1, 2, 3]}\n  max: 8\n",
     r"storyboard.yaml:8:1: more than 8 variations; expected at most 8"),
    ("variations:\n  matrix: {a: [1, 2, 3, 4, 5, 6, 7], b: [1, 2, 3, 4, 5, 6, 7], "
     "c: [1, 2, 3, 4, 5, 6, 7]}\n  max: 2\n  exclude: [{c: 1}, {c: 2}, {c: 3}, {c: 4}, {c: 5}, "
     "{c: 6}, {c: 7}]\n",
     r"the matrix has more than 200 combinations; expected at most 2"),
    ("variations:\n  matrix: {a: [1, 2]}\n  exclude: [{a: 1}, {a: 2}]\n",
     r"storyboard.yaml:8:1: no variation is left \(every combination is excluded\)"),
    ("variations:\n  matrix: {product: [a]}\n  name: \"{{ prodct }}\"\n",
     r"storyboard.yaml:10:9: 'prodct' is not defined"),
    ("variations:\n  matrix: {ratio: ['9:16', '2:1']}\n",
     r"storyboard.yaml:9:19: matrix value '2:1' for 'ratio': expected one of 16:9, 9:16"),
    # a language the series does not version into would render every shot again as a plain
    # variation where a version was meant: refused at its place, with what it likely means
    ("languages: [en, es]\nvariations:\n  matrix: {language: [en, sp]}\n"
     "  name: \"{{ language }}\"\n",
     r"storyboard.yaml:10:27: the matrix's language axis: 'sp' is not one of the series' "
     r"languages \(en, es\) \(did you mean `es`\?\); expected one of them"),
    ("languages: [en, es]\nvariations:\n  matrix: {language: [en]}\n"
     "  include: [{language: fr}]\n  name: \"{{ language }}\"\n",
     r"storyboard.yaml:11:24: the matrix's language axis: 'fr' is not one of the series' "
     r"languages \(en, es\); expected one of them, or add it to languages:"),
])
def test_a_bad_matrix_is_located(tmp_path: Path, make_media: MakeMedia, body: str,
                                 pattern: str) -> None:
    root = series(tmp_path / "ad", make_media, body)
    one(problems(root), pattern)
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_the_default_cap_is_a_thousand(tmp_path: Path, make_media: MakeMedia) -> None:
    body = f"variations:\n  matrix: {{a: {list(range(40))}, b: {list(range(30))}}}\n"
    root = series(tmp_path / "ad", make_media, body)
    one(problems(root), r"more than 1000 variations; expected at most 1000")


def test_a_variation_with_an_error_says_which(tmp_path: Path, make_media: MakeMedia) -> None:
    body = MATRIX + "  include: [{product: latte, extra: '{{ nothing }}'}]\n"
    episodes = """\
    - id: ad
      shots:
        - {id: hook, prompt: "@cup spins {{ extra | default('') }}"}
    """
    root = series(tmp_path / "ad", make_media, body, episodes)
    variants = compile_variations(root)
    assert [v.name for v in variants.variants if not v.ok] == []
    bad = series(tmp_path / "bad", make_media, MATRIX, """\
    - id: ad
      shots:
        - {id: hook, prompt: "@cup {{ {'latte': 'spins'}[product] }}"}
    """)
    found = problems(bad)
    line = one(found, r"storyboard.yaml:16:28: 'dict object' has no attribute 'espresso'")
    assert "[in variation(s) espresso-en-9x16, espresso-en-16x9, espresso-es-9x16, " \
           "espresso-es-16x9]" in line


# --- shot templates ---------------------------------------------------------------------------------


PROMO = """\
description: a promo shot
params:
  product: {description: the product}
  mood: {default: calm}
shots:
  - id: promo
    prompt: "@{{ product }} on a table, {{ mood }}, for {{ lang }}"
"""


def test_a_series_template_with_parameters(tmp_path: Path, make_media: MakeMedia) -> None:
    episodes = """\
    - id: ad
      shots:
        - use: promo
          with: {product: cup, mood: "{{ lang }} happy"}
        - {id: pitch, prompt: "@mia smiles"}
        - use: promo
          id: again
          with: {product: guitar}
    """
    root = series(tmp_path / "ad", make_media, MATRIX, episodes,
                  files={"templates/promo.yaml": PROMO})
    manifest = compile_variations(root, select=["latte-en-9x16"]).manifests[0]
    made = {s.id: s for s in manifest.shots()}
    assert list(made) == ["promo", "pitch", "again"]
    assert made["promo"].request.prompt == "Image 1 on a table, en happy, for en"
    assert made["again"].request.prompt == "Image 1 on a table, calm, for en"
    assert made["promo"].span is not None and made["promo"].span.file.endswith("promo.yaml")


def test_the_shipped_templates(tmp_path: Path, make_media: MakeMedia) -> None:
    episodes = """\
    - id: ad
      end_card: {text: "{{ product }} now"}
      shots:
        - use: hook
          with: {subject: cup}
        - use: product-hero
          with: {product: cup, feature: "a {{ product }} crema"}
        - use: testimonial
          with: {speaker: mia, product: cup, quote: "Best {{ product }}!"}
        - use: cta
          with: {product: cup, offer: "2 for 1"}
    """
    root = series(tmp_path / "ad", make_media, MATRIX, episodes)
    variants = compile_variations(root)
    assert variants.ok, [d.format() for d in variants.diagnostics()]
    first = {s.id: s.request for s in variants.manifests[0].shots()}
    assert list(first) == ["hook", "hero", "testimonial", "cta"]
    assert first["hook"].prompt == ("Extreme close-up: Image 1 turns slowly as steam rises in "
                                    "the backlight. Macro lens, dramatic rim light, shallow "
                                    "depth of field.")  # a sentence starts with a capital
    assert 'Image 1 says: "Best espresso!"' in first["testimonial"].prompt
    assert "a espresso crema" in first["hero"].prompt
    assert '"2 for 1"' in first["cta"].prompt


@pytest.mark.parametrize(("entry", "pattern"), [
    ("- use: promp\n  with: {product: cup}",
     r"storyboard.yaml:12:14: unknown template 'promp' \(did you mean 'promo'\?\); expected one "
     r"of: cta, hook, product-hero, promo, testimonial"),
    ("- use: promo\n  with: {mood: sad}",
     r"storyboard.yaml:12:14: template 'promo' needs parameter 'product' \(declared at "
     r".*templates/promo.yaml:3:3\); expected it under 'with:'"),
    ("- use: promo\n  with: {product: cup, moood: sad}",
     r"storyboard.yaml:13:30: template 'promo' has no parameter 'moood' \(did you mean 'mood'\?\)"),
    ("- use: promo\n  with: {product: cup, mood: '{{ nope }}'}",
     r"storyboard.yaml:13:36: 'nope' is not defined"),
    ("- use: promo\n  with: {product: cupp}",
     r"promo.yaml:7:13: unknown character @cupp \(did you mean 'cup'\?\).*\(in template 'promo', "
     r"used at .*storyboard.yaml:12:14\)"),
    ("- use: promo\n  with: {product: cup}\n  duration: 3",
     r"storyboard.yaml:14:9: a 'use:' entry takes only id, use, with; got 'duration'"),
])
def test_a_bad_use_is_located(tmp_path: Path, make_media: MakeMedia, entry: str,
                              pattern: str) -> None:
    episodes = "- id: ad\n  shots:\n" + textwrap.indent(entry, "    ") + "\n"
    root = series(tmp_path / "ad", make_media, "vars: {lang: en}\n", episodes,
                  files={"templates/promo.yaml": PROMO})
    one(problems(root), pattern)


def test_an_error_inside_a_template_names_both_lines(tmp_path: Path,
                                                     make_media: MakeMedia) -> None:
    broken = PROMO.replace("{{ lang }}", "{{ language }}")
    root = series(tmp_path / "ad", make_media, "vars: {lang: en}\n",
                  "- id: ad\n  shots:\n    - use: promo\n      with: {product: cup}\n",
                  files={"templates/promo.yaml": broken})
    line = one(problems(root), "'language' is not defined")
    assert re.match(r"promo.yaml:7:13: .*\(in template 'promo', used at .*storyboard.yaml:12:14\)",
                    line), line
    bad_yaml = series(tmp_path / "y", make_media, "vars: {lang: en}\n",
                      "- id: ad\n  shots:\n    - use: promo\n      with: {product: cup}\n",
                      files={"templates/promo.yaml": "shots:\n  - {id: x, promt: hi}\n"})
    assert len(problems(bad_yaml)) == 1
    one(problems(bad_yaml), r"promo.yaml:2:13: unknown key 'promt' \(did you mean 'prompt'\?\)")


# --- card text fits its card -------------------------------------------------------------------------


def test_card_text_shrinks_to_a_floor_and_wraps() -> None:
    from storyboard.media.cardtext import CARD_TEXT_FLOOR, CARD_TEXT_SIZE, fit_card_text
    assert fit_card_text("Buy now", 1280, 720) == (CARD_TEXT_SIZE, True)
    spanish = "Prueba hoy nuestro espresso: la primera taza es gratis en nuestras cafeterías. " * 8
    size, fits = fit_card_text(spanish, 720, 1280)
    assert fits and CARD_TEXT_FLOOR <= size < CARD_TEXT_SIZE
    assert fit_card_text(spanish, 1280, 720)[0] <= size  # a wide card holds fewer lines
    assert fit_card_text("word " * 2000, 1280, 720) == (CARD_TEXT_FLOOR, False)


def test_check_warns_when_card_text_cannot_fit(tmp_path: Path, make_media: MakeMedia) -> None:
    episodes = """\
    - id: ad
      end_card: {text: "{{ 'Compra ahora ' * n }}"}
      shots:
        - {id: hook, prompt: "@cup spins"}
    """
    body = "vars: {n: 3}\nvariations:\n  matrix: {n: [3, 900]}\n  name: n{{ n }}\n"
    root = series(tmp_path / "ad", make_media, body, episodes)
    variants = compile_variations(root)
    assert variants.ok
    warned = [d for d in variants.diagnostics() if "does not fit" in d.message]
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert warned[0].span is not None and warned[0].span.line == 14
    assert "[in variation(s) n900]" in warned[0].message
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 0 and "end card text (11700 characters) does not fit" in result.output


def test_a_template_of_several_shots_and_ids(tmp_path: Path, make_media: MakeMedia) -> None:
    pair = """\
    params: {who: {}}
    shots:
      - {id: look, prompt: "@{{ who }} looks up"}
      - {prompt: "@{{ who }} smiles", first_frame: {from: look}}
    """
    nested = "shots:\n  - use: pair\n    with: {who: mia}\n"
    episodes = """\
    - id: ad
      shots:
        - use: pair
          with: {who: mia}
        - use: pair
          id: again
          with: {who: cup}
    """
    root = series(tmp_path / "ad", make_media, "vars: {}\n", episodes,
                  files={"templates/pair.yaml": pair, "templates/nested.yaml": nested})
    manifest = storyboard.compile(root)
    assert [s.id for s in manifest.shots()] == ["look", "pair-2", "again-look", "again-2"]
    assert manifest.shots()[3].request.prompt == "Image 1 smiles"
    assert [s.depends_on for s in manifest.shots()] == [None, "look", None, "again-look"]
    bad = series(tmp_path / "bad", make_media, "vars: {}\n",
                 "- id: ad\n  shots:\n    - use: nested\n", files={"templates/nested.yaml": nested})
    one(problems(bad), r"nested.yaml:2:10: a template cannot use another template")


def test_the_example_ad(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "ad"
    variants = compile_variations(example)
    assert variants.ok and len(variants.variants) == 7
    assert "latte-es-16x9" not in [v.name for v in variants.variants]
    hooks = {m.name: m.shots()[0] for m in variants.manifests}
    assert {s.id for s in hooks.values()} == {"hook"}
    assert len({s.hash for s in hooks.values()}) == 2  # one per ratio, shared by the rest
    cards = {m.name.split("/")[1]: m.episodes[0].settings["end_card"]["text"]
             for m in variants.manifests}
    assert cards["espresso-en-9x16"].startswith("Try our espresso today")
    assert cards["latte-es-9x16"].startswith("Prueba hoy nuestro latte")
    spoken = {m.name.split("/")[1]: m.shots()[2].request.scenes[1].lines[0]
              for m in variants.manifests}
    assert spoken["latte-es-9x16"].voice is not None
    assert spoken["latte-es-9x16"].voice.path is not None
    assert spoken["latte-es-9x16"].voice.path.name == "barista-es.wav"
    assert spoken["latte-en-9x16"].text == "This is the best latte on the block."


def test_an_old_jinja_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import jinja2

    from storyboard.language.expansion.sandbox import Sandbox
    monkeypatch.setattr(jinja2, "__version__", "3.1.5")
    with pytest.raises(StoryboardError, match=r"jinja2 3.1.5 has known sandbox escapes") as err:
        Sandbox()
    assert f"{sys.executable} -m pip install -U 'jinja2>=3.1.6'" in str(err.value)  # this venv


def test_the_single_series_api_on_a_matrix(tmp_path: Path, make_media: MakeMedia) -> None:
    root = series(tmp_path / "ad", make_media)
    with pytest.raises(StoryboardError, match=r"has 6 variations; expected a series without a "
                                              r"matrix here: use storyboard.compile_variations"):
        storyboard.compile(root)
    assert [d.severity for d in storyboard.check(root)] == ["warning"]  # guitar is never used
    broken = series(tmp_path / "bad", make_media, MATRIX.replace("{{ lang }}-", "{{ lang }-"))
    assert any("template syntax error" in d.message for d in storyboard.check(broken))
