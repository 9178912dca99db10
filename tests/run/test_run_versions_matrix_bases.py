"""A products x languages matrix takes the version route per base (issue 68, item 7): each
language variation is the version of the base with its own product, made when that base's cut
is approved (0 video renders, its dubbed episode in its own folder with its words' subtitles),
rendered as any variation while its base is not; ``plan`` shows both routes with their costs,
and a second render pays nothing again."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator.server import EmulatorServer
from storyboard.language.variations import compile_variations, language_versions
from storyboard.language.versions.versionfile import read_version, version_path, write_version
from tests.fixtures.dashscope_cli import Emulator, invoke, submissions
from tests.run.test_run_versions_version import MakeMedia, counts, run

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

MATRIX = """\
storyboard: 1
title: Cups
languages: [en, es]
defaults: {resolution: 720P, ratio: "16:9", duration: 4}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
vars:
  language: en
  product: espresso
  copy: {en: "One %s, for us.", es: "Uno de %s, por favor."}  # the es variation's own words
variations:
  matrix: {product: [espresso, latte], language: [en, es]}
voices:
  mia-voice: {design: "warm, calm woman in her thirties",
              sample: "Morning! The usual, with oat milk and no sugar, as always?"}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
episodes:
  - id: ep01
    shots:
      - id: hello
        scenes:
          - {at: 1-3s, action: "@mia raises her cup", say: {mia: "{{ copy[language] | format(product) }}"}}
      - id: street
        scenes:
          - {at: 0-3s, action: "@mia walks down an empty street"}
"""
BASES = ("espresso-en", "latte-en")
SPANISH = {"espresso-en": "Un espresso, para nosotros.", "latte-en": "Un latte, para nosotros."}


def _series(root: Path, make_media: MakeMedia) -> Path:
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(MATRIX, encoding="utf-8")
    return root


def _rendered(root: Path, *approve: str) -> None:
    """Both bases rendered; the shots of ``approve`` approved; each base's version written."""
    code, _, said = run("render", root, "--provider", "dashscope", "--yes", "--json",
                        "--variation", "*-en")
    assert code == 0, said
    for base in approve:
        for shot in ("ep01/hello", "ep01/street"):
            code, _, said = run("approve", root, f"{base}/{shot}", "--force")
            assert code == 0, said
    result = invoke("translate", root, "--language", "es", "--no-model")
    assert result.exit_code == 0, result.stderr + result.stdout
    for base, words in SPANISH.items():  # each base's own words, in its own folder
        path = version_path(root, "es", "ep01", base)
        version = read_version(path, root)
        assert version.lines[0].source == words.replace("Un ", "One ").replace(
            ", para nosotros", ", for us")
        write_version(path, version.__class__(
            "es", "en", "ep01", (version.lines[0].__class__(**{
                **{k: getattr(version.lines[0], k) for k in (
                    "shot", "n", "speaker", "start", "end", "route", "source")},
                "text": words}),)))
    assert not version_path(root, "es", "ep01").exists()  # no flat file: one per base


def _plan(root: Path) -> dict[str, Any]:
    result = invoke("plan", root, "--provider", "dashscope", "--json")
    assert result.exit_code == 0, result.stderr + result.stdout
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_each_language_variation_is_paired_with_the_base_of_its_other_values(
        tmp_path: Path, make_media: MakeMedia) -> None:
    root = _series(tmp_path / "cups", make_media)
    found = language_versions(compile_variations(root))
    assert {name: (made.base.name, made.language, made.home) for name, made in found.items()} \
        == {"espresso-es": ("espresso-en", "es", "espresso-en"),
            "latte-es": ("latte-en", "es", "latte-en")}
    alone = root / "storyboard.yaml"  # a matrix of the language axis alone: its one base's
    alone.write_text(MATRIX.replace("{product: [espresso, latte], language: [en, es]}",
                                    "{language: [en, es]}"),
                     "utf-8")  # files stay flat
    assert [(m.base.name, m.home) for m in language_versions(compile_variations(root)).values()] \
        == [("en", None)]


def test_both_bases_approved_both_language_variations_are_dubbed_without_a_video_render(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    server = emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, *BASES)
    planned = _plan(root)
    assert [v["name"] for v in planned["variations"]] == list(BASES)
    routes = {v["name"]: v for v in planned["versions"]}
    assert {name: v["base"] for name, v in routes.items()} == {"espresso-es": "espresso-en",
                                                              "latte-es": "latte-en"}
    for version in routes.values():  # each priced on its own, beside its re-render
        assert (version["lines"], version["passes"]) == (1, 1)
        assert 0 < version["cost"] < version["rerender_cost"], version
    text = invoke("plan", root, "--provider", "dashscope").stdout
    assert "espresso-es: the es version of espresso-en (its shots approved)" in text, text
    assert "latte-es: the es version of latte-en (its shots approved)" in text, text
    speech, passes, submitted = counts(server)
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert counts(server)[0] - speech == 2  # each base's line, once
    assert counts(server)[1] - passes == 2  # a pass over each base's approved take
    assert submissions(server) - submitted == 2  # the two passes: 0 video renders
    assert sorted(v["variation"] for v in report["versions"]) == ["cups/espresso-es",
                                                                  "cups/latte-es"]
    for base, words in SPANISH.items():  # each in its own folder, its own words' subtitles
        folder = root / "out" / base.replace("-en", "-es")
        assert (folder / "ep01.mp4").is_file()
        assert words in (folder / "ep01.srt").read_text("utf-8")
    lock = json.loads((root / "storyboard.lock").read_text("utf-8"))["shots"]
    assert {lock[f"cups/{v}/ep01/hello"]["parameters"]["model"]
            for v in ("espresso-es", "latte-es")} == {"videoretalk"}
    submitted = submissions(server)  # run again: no line, pass or video paid twice
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0 and report["spent"] == 0 and submissions(server) == submitted, said
    assert counts(server)[0] - speech == 2


def test_only_the_approved_bases_language_variation_is_dubbed_the_other_renders(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    server = emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, "espresso-en")
    planned = _plan(root)  # latte-es renders (priced as a variation), espresso-es is dubbed
    rendered = {v["name"]: v for v in planned["variations"]}
    assert sorted(rendered) == ["espresso-en", "latte-en", "latte-es"]
    assert rendered["latte-es"]["alone_cost"] > 0 and rendered["espresso-en"]["alone_cost"] == 0
    assert [(v["name"], v["base"]) for v in planned["versions"]] == [("espresso-es",
                                                                     "espresso-en")]
    assert 0 < planned["versions"][0]["cost"] < planned["versions"][0]["rerender_cost"]
    text = invoke("plan", root, "--provider", "dashscope").stdout
    assert "latte-es\t3\t2\t0\t1\t0.30 USD\t0.30 USD" in text.splitlines(), text
    assert "espresso-es: the es version of espresso-en (its shots approved), no video rendered " \
        "again: 1 line(s) 0.0003, 1 lip-sync pass(es) 0.0345: 0.0348 USD; rendering its 2 " \
        "shot(s) again: 0.6000 USD" in text, text
    speech, passes, submitted = counts(server)
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert counts(server)[0] - speech == 1  # espresso-es's line (latte-es speaks in its video)
    assert counts(server)[1] - passes == 1  # espresso-es re-lipped
    # latte-es's speaking shot rendered (its silent one is latte-en's, cached), one pass
    assert submissions(server) - submitted == 2
    assert [v["variation"] for v in report["versions"]] == ["cups/espresso-es"]
    assert (root / "out" / "latte-es" / "ep01.mp4").is_file()
    assert SPANISH["espresso-en"] in (root / "out" / "espresso-es" / "ep01.srt").read_text(
        "utf-8")
    submitted = submissions(server)
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0 and report["spent"] == 0 and submissions(server) == submitted, said


SPEECH = 0.1 / 10_000  # qwen3-tts-vd-2026-01-26's list price (USD) of a character spoken
SPOKEN = 270  # characters of each base's Spanish line, rewritten longer: a line's list price


def _longer(root: Path) -> None:
    """Each base's Spanish line rewritten to ``SPOKEN`` characters of its own words."""
    for base, words in SPANISH.items():
        path = version_path(root, "es", "ep01", base)
        version = read_version(path, root)
        text = ((words + " ") * SPOKEN)[:SPOKEN - 1] + "."
        write_version(path, replace(version, lines=(replace(version.lines[0], text=text),)))


def test_a_version_over_its_plan_leaves_the_next_what_the_budget_counted(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    """Both versions planned at their passes alone (the series prices speech at 0), rendered
    under --budget of both passes and one and a half lines: the first version's line and pass
    leave the second too little for its pass after its line; the matrix's spend (lines and
    passes at their list prices) stays within --budget."""
    server = emulator(plain_results=False, latency=0.3)
    root = _series(tmp_path / "cups", make_media)
    _rendered(root, *BASES)
    _longer(root)
    text = root / "storyboard.yaml"
    text.write_text(MATRIX.replace("poll: [0.2]}", "poll: [0.2], prices: "
                                   "{qwen3-tts-vd-2026-01-26: {each: 0}}}"), encoding="utf-8")
    passes = sum(v["cost"] for v in _plan(root)["versions"])
    line = SPOKEN * SPEECH
    budget = round(passes + 1.5 * line, 6)
    speech, retalks, _ = counts(server)
    characters = server.stats()["cast"]["characters"]
    code, report, said = run("render", root, "--provider", "dashscope", "--json",
                             "--budget", f"{budget}")
    assert code == 1, said  # the second version's pass left out
    assert counts(server)[0] - speech == 2 and counts(server)[1] - retalks == 1
    made = [s for v in report["versions"] for s in v["shots"] if s["key"].endswith("/hello")]
    assert sorted(s["state"] for s in made) == ["done", "skipped"], made
    spoken = (server.stats()["cast"]["characters"] - characters) * SPEECH
    paid = spoken + sum(s["cost"] for s in made if s["state"] == "done")
    assert spoken == pytest.approx(2 * line) and paid <= budget, (paid, budget)


def test_check_holds_each_bases_version_files_to_that_base_alone(
        tmp_path: Path, make_media: MakeMedia) -> None:
    root = _series(tmp_path / "cups", make_media)
    result = invoke("translate", root, "--language", "es", "--no-model")
    assert result.exit_code == 0, result.stderr + result.stdout
    assert "2 file(s) written" in result.stdout, result.stdout
    flat = version_path(root, "es", "ep01")  # a file where a single base's would be
    flat.write_text(version_path(root, "es", "ep01", "latte-en").read_text("utf-8"), "utf-8")
    said = invoke("check", root).output
    for base in BASES:  # each its own lines, wordless, at its own file's line: none stale
        assert f"languages/es/{base}/ep01.yaml:7:5: warning: no words yet" in said, said
    assert "stale" not in said, said
    assert "languages/es/ep01.yaml:1:1: warning: this file is not used: each base of this " \
        "matrix has its versions in its own folder, languages/<lang>/<base>/" in said, said


def test_a_variation_matching_two_bases_or_none_is_rendered_as_any(tmp_path: Path) -> None:
    """Two bases alike on every other axis cannot come from a matrix (they would share a name,
    refused at the name line); were they given, their language variation would pair with
    neither, and one that matches no base has none: each renders as any variation."""
    from storyboard.language.request import Manifest
    from storyboard.language.variations import Variant, Variants
    manifest = Manifest("T", "cups/x", tmp_path, tmp_path / "storyboard.yaml", [])

    def variant(name: str, **values: str) -> Variant:
        return Variant(name, {}, manifest, values=values, languages=("en", "es"))

    twins = Variants(tmp_path, "cups", True, [
        variant("a-en", product="a", language="en"), variant("b-en", product="a", language="en"),
        variant("a-es", product="a", language="es"), variant("c-es", product="c", language="es")])
    assert language_versions(twins) == {}
    twins.variants.pop(1)  # one base for a-es; c-es still has none
    assert {n: m.base.name for n, m in language_versions(twins).items()} == {"a-es": "a-en"}


def test_translate_asks_each_bases_lines_into_its_own_file(
        tmp_path: Path, make_media: MakeMedia, chat_emulator: EmulatorServer) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli
    from tests.fixtures.breakdown import KEY_ENV, chat_base, requests
    root = _series(tmp_path / "cups", make_media)
    before = requests(chat_emulator)
    asked = ["translate", str(root), "--language", "es", "--base-url", chat_base(chat_emulator),
             "--api-key-env", KEY_ENV, "--yes"]
    result = CliRunner(env={KEY_ENV: "sk-test-translate"}).invoke(cli, asked)
    assert result.exit_code == 0 and "2 file(s) written" in result.output, result.output
    assert requests(chat_emulator) == before + 2  # a call per base: their lines differ
    again = CliRunner(env={KEY_ENV: "sk-test-translate"}).invoke(cli, asked)
    assert again.exit_code == 0 and "0 request(s) sent" in again.output, again.output
    assert "0 file(s) written, 2 unchanged" in again.output, again.output
    assert requests(chat_emulator) == before + 2  # nothing asked, nor paid, twice
    for product in ("espresso", "latte"):  # each base's words in its own file, none crossed
        line = read_version(version_path(root, "es", "ep01", f"{product}-en"), root).lines[0]
        assert (line.source, line.text) == (f"One {product}, for us.",
                                            f"[es] One {product}, for us.")
