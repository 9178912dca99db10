"""The grey placeholder cards older `storyboard init`s drew: recognised, and never paid for.

Users still have them on disk: the cards are drawn here by the old recipe (``old_init_cards``),
at both sizes, in every PNG filter. A series that uses one is an error at the line that uses it
for a paid provider (``check``, ``plan`` and ``render`` alike, before anything is submitted: the
emulator counts), a warning for a free one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from storyboard.cli.common import PROVIDERS
from storyboard.media import ffmpeg
from storyboard.media.probes import probe
from storyboard.media.probes.initcard import is_init_card
from storyboard.providers.comfyui.provider import ComfyUIProvider
from storyboard.providers.dashscope.provider import DashScopeProvider
from storyboard.providers.local import LocalProvider
from storyboard.targets.kinds import FREE as FREE_PROVIDERS
from storyboard.targets.kinds import is_paid
from storyboard.targets.wire.gateways import GATEWAYS
from tests.fixtures import old_init_cards as old
from tests.fixtures.cli import invoke
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import Emulator, MakeMedia, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

HEAD = """\
storyboard: 1
title: Old
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
output: {loudness: null}
characters:
  mia: {image: media/cast/mia.png}
  kitchen: {image: media/places/kitchen.png}
  guitar: {image: media/guitar.png}
"""
SHOTS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@guitar on a table", first_frame: media/frame.png}
    - {id: b, prompt: "@mia in the @kitchen"}
"""


# --- the recipe, recognised ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "size"), [
    ("ADA", old.PORTRAIT), ("MIA'S KITCHEN", old.LANDSCAPE), ("X", old.PORTRAIT),
    ("ÉLODIE DE LA FONTAINE-SAINT-GERMAIN DES PRÉS", old.PORTRAIT),
    ("INT. ALLEY BEHIND THE BAKERY", old.LANDSCAPE)])
def test_a_card_an_older_init_drew_is_recognised(tmp_path: Path, name: str,
                                                 size: tuple[int, int]) -> None:
    card = old.card(tmp_path / "card.png", name, size=size)
    assert is_init_card(card)
    assert probe.measure(card).init_card


@pytest.mark.parametrize("pred", ["none", "sub", "up", "avg", "paeth", "mixed"])
def test_a_card_is_recognised_whatever_the_png_filter(tmp_path: Path, pred: str) -> None:
    assert is_init_card(old.card(tmp_path / "card.png", "RUTH", pred=pred))


def test_cards_drawn_many_to_a_run_are_recognised(tmp_path: Path) -> None:
    """``init --from`` drew them 48 to an ffmpeg run, portraits and landscapes together."""
    jobs = {tmp_path / f"c{i}.png": (f"NAME {i}", old.PORTRAIT if i % 2 else old.LANDSCAPE)
            for i in range(6)}
    old.cards(jobs)
    assert all(is_init_card(path) for path in jobs)


def test_other_pictures_are_not_cards(tmp_path: Path, make_media: MakeMedia) -> None:
    card = old.card(tmp_path / "card.png", "ADA")
    data = card.read_bytes()
    others = {
        "flat grey, no words": make_media("image", tmp_path / "grey.png", width=384, height=512,
                                          color="0x808080"),
        "a picture of the card's size": make_media("image", tmp_path / "bars.png", width=512,
                                                   height=288),
        "the card cut short": _write(tmp_path / "short.png", data[:len(data) // 2]),
        "the card as a JPEG": _convert(card, tmp_path / "card.jpg"),
        "the card with transparency": _convert(card, tmp_path / "alpha.png", "rgba"),
        "the card recoloured": _convert(card, tmp_path / "sepia.png", "rgb24",
                                        "colorchannelmixer=rr=0.9:gg=0.8:bb=0.6"),
        "not a file": tmp_path / "missing.png"}
    old._batch([(tmp_path / "wide.png", "ADA")], (400, 512))  # the recipe at another size
    others["another size"] = tmp_path / "wide.png"
    for example in sorted(Path(__file__).parents[2].glob("examples/*/media/**/*.png")):
        others[str(example)] = example
    assert {what: is_init_card(path) for what, path in others.items()} == {
        what: False for what in others}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _convert(source: Path, target: Path, pix_fmt: str = "", filters: str = "") -> Path:
    ffmpeg.run(["-i", str(source), *(["-vf", filters] if filters else []),
                *(["-pix_fmt", pix_fmt] if pix_fmt else []), "-frames:v", "1", "-update", "1",
                str(target)], what="converting a card")
    return target


# --- check, plan and render ------------------------------------------------------------------


@pytest.fixture
def with_cards(tmp_path: Path, make_media: MakeMedia) -> Path:
    """A series whose mia, kitchen and first frame are an older init's cards (guitar is real)."""
    series = write_series(tmp_path / "old", make_media, SHOTS, head=HEAD)
    old.card(series / "media" / "cast" / "mia.png", "MIA")
    old.card(series / "media" / "places" / "kitchen.png", "KITCHEN", size=old.LANDSCAPE)
    old.card(series / "media" / "frame.png", "FRAME", size=old.LANDSCAPE)
    return series


def check_json(series: Path, *provider: str) -> tuple[int, list[dict[str, Any]]]:
    result = invoke("check", series, "--json", *(("--provider", *provider) if provider else ()))
    found = [d for d in json.loads(result.stdout) if d["code"] == "placeholder-image"]
    return result.exit_code, found


@pytest.mark.parametrize("provider", ["dashscope", "freepik"])
def test_check_refuses_a_card_for_a_paid_provider_at_the_line_that_uses_it(
        with_cards: Path, provider: str) -> None:
    code, found = check_json(with_cards, provider)
    assert code == 1
    assert [(Path(d["file"]).name, d["line"], d["column"], d["severity"]) for d in found] == [
        ("storyboard.yaml", 6, 16, "error"), ("storyboard.yaml", 7, 20, "error"),
        ("storyboard.yaml", 12, 60, "error")]  # mia, kitchen, and shot a's first frame
    message = found[0]["message"]
    assert message.startswith("media/cast/mia.png is a grey placeholder card")
    assert provider in message and 'image: {generate: "..."}' in message


@pytest.mark.parametrize("provider", [(), ("local",), ("comfyui",)])
def test_for_a_free_provider_a_card_is_a_warning(with_cards: Path, provider: tuple[str]) -> None:
    code, found = check_json(with_cards, *provider)
    assert code == (1 if provider == ("comfyui",) else 0)  # comfyui: this series names no
    # workflow, which check now says as render does; the cards stay warnings all the same
    assert [(d["line"], d["severity"]) for d in found] == [
        (6, "warning"), (7, "warning"), (12, "warning")]
    assert "fine for a local draft" in found[0]["message"]


def test_the_series_own_provider_counts_when_no_flag_names_one(with_cards: Path) -> None:
    text = (with_cards / "storyboard.yaml").read_text(encoding="utf-8")
    (with_cards / "storyboard.yaml").write_text(text + "provider: {name: dashscope}\n",
                                                encoding="utf-8")
    code, found = check_json(with_cards)
    assert code == 1 and {d["severity"] for d in found} == {"error"}


def test_a_real_picture_in_its_place_is_accepted(with_cards: Path, make_media: MakeMedia) -> None:
    for name in ("cast/mia.png", "places/kitchen.png", "frame.png"):
        shutil.copyfile(with_cards / "media" / "guitar.png", with_cards / "media" / name)
    code, found = check_json(with_cards, "dashscope")
    assert (code, found) == (0, [])


def test_plan_and_render_refuse_before_anything_is_submitted(with_cards: Path,
                                                             emulator: Emulator) -> None:
    emu = emulator()
    planned = invoke("plan", with_cards, "--provider", "dashscope")
    assert planned.exit_code == 1 and "grey placeholder card" in planned.output
    rendered = invoke("render", with_cards, "--provider", "dashscope", "--yes", "--budget", "100")
    assert rendered.exit_code == 1
    assert "storyboard.yaml:6:16: error: media/cast/mia.png is a grey placeholder" in \
        rendered.output
    assert submissions(emu) == 0
    assert not (with_cards / ".storyboard" / "journal.sqlite").exists()


def test_a_local_draft_still_renders_with_cards(with_cards: Path, tmp_path: Path) -> None:
    result = invoke("render", with_cards, "--draft", "--yes", "--quiet", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    # the render says the cards in one line; check shows each at its line
    assert "warning: 3 warning(s) in the series (3 placeholder-image)" in result.output
    assert list((tmp_path / "out" / "draft").glob("*.mp4"))
    shown = invoke("check", with_cards)
    assert "warning: media/cast/mia.png is a grey placeholder card" in shown.output


def test_the_paid_names_agree_with_the_providers() -> None:
    """``targets`` says which names cost money; each provider's ``traits.paid`` says the same."""
    assert set(FREE_PROVIDERS) == {"local", "comfyui"}
    assert all(is_paid(name) for name in ("dashscope", *GATEWAYS, "some-new-service"))
    assert not any(is_paid(name) for name in FREE_PROVIDERS)
    assert {name for name in PROVIDERS if not is_paid(name)} == set(FREE_PROVIDERS)
    assert DashScopeProvider.traits.paid and not ComfyUIProvider.traits.paid
    assert not LocalProvider(Path("unused")).traits.paid


def test_a_card_among_a_generated_pictures_refs_is_refused_too(tmp_path: Path) -> None:
    """A card given to guide a generated picture (``refs``) would be paid for as well."""
    assert invoke("init", tmp_path / "s").exit_code == 0
    old.card(tmp_path / "s" / "media" / "ada.png", "ADA")
    yaml_file = tmp_path / "s" / "storyboard.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    yaml_file.write_text(text.replace("image: {generate:", "image: {refs: [media/ada.png], generate:"),
                         encoding="utf-8")
    code, found = check_json(tmp_path / "s", "dashscope")
    assert code == 1 and [(d["line"], d["column"], d["severity"]) for d in found] == [
        (25, 20, "error")]
