"""The review sheet's Cast section: each generated image and designed voice with every take side by
side (made on ``local``), their words escaped, takes not made shown as such, and the shots' references
naming the asset and showing its picked take."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.review.sheet import build_sheet

CAST = """\
storyboard: 1
title: Cast
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: local}
output: {loudness: null}
characters:
  mia:
    image: {generate: "barista <b>&amp; \\"friend\\"</b>", takes: 2}
    voice: mia-voice
  cafe: {image: {generate: "a small corner cafe", kind: place}}
voices:
  mia-voice: {design: "warm <i>calm</i> woman", sample: "Morning! <script>x</script>"}
episodes:
  - id: ep01
    shots:
      - {id: hello, prompt: "@mia wipes the counter in @cafe"}
      - {id: empty, prompt: "rain on the window of @cafe"}
"""


def series(tmp_path: Path) -> Path:
    root = tmp_path / "cast"
    root.mkdir()
    (root / "storyboard.yaml").write_text(CAST, encoding="utf-8")
    return root


def test_cast_not_made_shows_not_made_and_escapes_words(tmp_path: Path) -> None:
    root = series(tmp_path)
    page = build_sheet(root, provider="local").html.read_text("utf-8")
    cast = page[page.index('<section class="episode cast"'):page.index('data-episode="ep01"')]
    assert cast.count('<div class="none">not made</div>') == 4  # mia x2, cafe, the voice
    assert "<img" not in cast and "<audio" not in cast
    assert "barista &lt;b&gt;&amp;amp; &#34;friend&#34;&lt;/b&gt;" in cast
    assert "warm &lt;i&gt;calm&lt;/i&gt; woman" in cast
    assert "Morning! &lt;script&gt;x&lt;/script&gt;" in cast
    assert "<script>x" not in page
    assert 'data-asset="cast/mia"' in cast and "place" in cast and 'data-asset="voices/mia-voice"' in cast
    assert "cast/mia (not made)" in page  # the shot's reference names the asset


def test_cast_made_shows_every_take_and_the_picked_one(tmp_path: Path) -> None:
    root = series(tmp_path)
    result = CliRunner().invoke(cli, ["render", str(root), "--provider", "local", "--yes"])
    assert result.exit_code == 0, result.output
    first = build_sheet(root, provider="local").html.read_bytes()
    page = first.decode()
    cast = page[page.index('<section class="episode cast"'):page.index('data-episode="ep01"')]
    assert "not made" not in cast
    assert cast.count('alt="cast/mia: take') == 2 and 'alt="cast/cafe: take 1"' in cast
    assert cast.count("<audio controls") == 1
    assert "cast/mia (take 1)" in page and 'alt="Image 1: mia"' in page
    assert build_sheet(root, provider="local").html.read_bytes() == first  # deterministic
    picked = CliRunner().invoke(cli, ["pick", str(root), "cast/mia", "2"])
    assert picked.exit_code == 0, picked.output
    page = build_sheet(root, provider="local").html.read_text("utf-8")
    mia = page[page.index('data-asset="cast/mia"'):page.index('data-asset="cast/cafe"')]
    assert '<figure class="take used" data-take="2" data-full="../.storyboard/cache/' in mia
    assert "picked" in mia
    assert "cast/mia (take 2)" in page
    hello = page[page.index('data-shot="hello"'):page.index('data-shot="empty"')]
    empty = page[page.index('data-shot="empty"'):]
    assert "status-changed" in hello and "status-changed" not in empty


def test_the_contact_sheet_shows_the_cast_images_first(tmp_path: Path) -> None:
    import struct

    from storyboard.review.sheet.model import Asset, Take
    from storyboard.review.sheet.pictures import png
    from storyboard.review.sheet.thumbs import Still

    root = series(tmp_path)
    result = CliRunner().invoke(cli, ["render", str(root), "--provider", "local", "--yes"])
    assert result.exit_code == 0, result.output
    picture = build_sheet(root, provider="local", png_out=True).png
    assert picture is not None
    width, height = struct.unpack(">II", picture.read_bytes()[16:24])
    assert (width, height) == (4 * 320, 180 + 40)  # cast/mia, cast/cafe, then the two shots
    still = Still("data:", "take 2", tmp_path / "t2.jpg")
    takes = (Take(1, None, "", False, "", made=False), Take(2, still, "picked", True, ""))
    mia = Asset("cast/mia", "image", "mia", "a", "character", "words", "", "$0.10", take=2,
                takes=takes)
    assert png.cast_cell(mia) == (tmp_path / "t2.jpg", "cast/mia #2 · character")
    assert png.cast_cell(Asset("cast/x", "image", "x", "a", "place", "w", "", "", takes=(
        Take(1, None, "", True, "", made=False),))) == (None, "cast/x · not made")


MATRIX = """\
storyboard: 1
title: Ad
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: local}
output: {loudness: null}
vars: {product: tea}
variations:
  matrix: {product: [tea, coffee], lang: [en, es]}
  name: "{{ product }}-{{ lang }}"
characters:
  mia: {image: {generate: "a barista in a green apron"}}
  cup: {image: {generate: "a cup of {{ product }} on a counter", kind: prop}}
episodes:
  - id: ad
    shots:
      - {id: hero, prompt: "@mia hands over @cup ({{ lang }})"}
"""


def test_a_matrix_sheet_shows_each_cast_asset_once_before_the_variations(tmp_path: Path) -> None:
    root = tmp_path / "ad"
    root.mkdir()
    (root / "storyboard.yaml").write_text(MATRIX, encoding="utf-8")
    result = build_sheet(root, provider="local", out=tmp_path / "sheet.html")
    assert result.variations == 4
    page = result.html.read_text("utf-8")
    cast = page[page.index('<section class="episode cast"'):page.index('data-variation=')]
    assert cast.count('data-asset="cast/mia"') == 1  # the same words in every variation: once
    assert cast.count('data-asset="cast/cup"') == 2  # a cup of tea, a cup of coffee
    assert "a cup of tea on a counter" in cast and "a cup of coffee on a counter" in cast


def test_a_blank_contact_sheet_says_why_and_what_to_do(tmp_path: Path) -> None:
    """Nothing rendered (cast from words, not made): every tile blank, and a hint; after
    drafts, the hint names ``--draft``; with ``--draft`` the tiles have pictures, no hint."""
    runner = CliRunner()
    series = tmp_path / "s"
    assert runner.invoke(cli, ["init", str(series)]).exit_code == 0
    before = runner.invoke(cli, ["sheet", str(series), "--png"])
    assert before.exit_code == 0, before.output
    assert "hint: the contact sheet's tiles are blank: no shot is rendered yet" in before.output
    assert f"storyboard render {series.name} --draft" in before.output
    assert runner.invoke(cli, ["render", str(series), "--draft", "-q"]).exit_code == 0
    after = runner.invoke(cli, ["sheet", str(series), "--png"])
    assert f"draft proxies are in {series / 'out' / 'draft'}" in after.output
    assert f"storyboard sheet {series.name} --png --draft" in after.output
    drafted = runner.invoke(cli, ["sheet", str(series), "--png", "--draft"])
    assert drafted.exit_code == 0 and "hint" not in drafted.output
