"""`storyboard sheet`: the HTML review sheet and the contact sheet, read back as a user would see them.

The rendered example (a session fixture) gives the real thing: panels in order, timecodes on the
stitcher's clock, stills from the renders, labels tied to references, plan and lock facts, the
same bytes twice. Unrendered and broken copies of the example check the fallbacks: stills from
references, problems on their shots. The page in a real browser is in ``test_sheet_browser.py``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.language.compile import compile_path
from storyboard.language.request import Manifest
from storyboard.review.sheet import build_sheet
from storyboard.review.sheet.html import css_color
from storyboard.review.sheet.model import Reference, segments
from storyboard.review.sheet.thumbs import frame_times
from storyboard.run.state.cache import OutputCache
from storyboard.stitch.series.cut import episode_cut, timecode
from storyboard.stitch.series.episodes import EpisodeBuilder
from tests.fixtures import example
from tests.fixtures.check_cases import CASES, SIX, MakeMedia
from tests.fixtures.compiler import SERIES_HEAD, write_series

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"


class Page(HTMLParser):
    """The parts of the page the tests look at: elements by class, ids, attributes, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and cls in a.get("class", "").split()]


def copy_example(tmp_path: Path) -> Path:
    series = tmp_path / "coffee-shop"
    example.copy_example(series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    return series


@pytest.fixture(scope="module")
def sheet(rendered_example: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[Path, Path, Path]:
    series, episodes = rendered_example
    out = tmp_path_factory.mktemp("sheet") / "sheet.html"
    result = CliRunner().invoke(cli, ["sheet", str(series), "-o", str(out), "--episodes",
                                      str(episodes), "--png"])
    assert result.exit_code == 0, result.output
    assert "2 episode(s), 4 shot(s)" in result.output
    return series, episodes, out


def cuts(series: Path, episodes: Path) -> tuple[Manifest, list]:  # type: ignore[type-arg]
    manifest = compile_path(series)
    builder = EpisodeBuilder(manifest, episodes, draft=False)
    cache = OutputCache(manifest.root, "local")
    return manifest, [episode_cut(builder, ep, cache) for ep in manifest.episodes]


def test_the_sheet_has_two_episodes_and_four_shot_panels_in_order(sheet: tuple[Path, Path, Path]
                                                                  ) -> None:
    page = Page(sheet[2].read_text("utf-8"))
    assert [a["data-episode"] for a in page.having("section", "episode")] == ["ep01", "ep02"]
    assert [a["data-shot"] for a in page.having("article", "shot")] == [
        "ballad", "reply", "order", "serve"]
    assert [a["data-card"] for a in page.having("article", "card")] == ["title_card", "end_card"]


def test_a_second_run_writes_the_same_bytes(sheet: tuple[Path, Path, Path]) -> None:
    series, episodes, out = sheet
    first, picture = out.read_bytes(), out.with_suffix(".png").read_bytes()
    shutil.rmtree(series / ".storyboard" / "thumbs")  # stills are taken again, identically
    again = build_sheet(series, out=out, episodes_dir=episodes, png_out=True)
    assert again.html.read_bytes() == first
    assert out.with_suffix(".png").read_bytes() == picture


def test_the_page_is_self_contained(sheet: tuple[Path, Path, Path]) -> None:
    text = sheet[2].read_text("utf-8")
    page = Page(text)
    images = [a["src"] for t, a in page.elements if t == "img"]
    assert len(images) >= 12 and all(src.startswith("data:image/jpeg;base64,") for src in images)
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text)
    assert "<style>" in text and "<link rel=\"stylesheet\"" not in text
    assert str(sheet[0]) not in text and str(Path.home()) not in text  # no absolute paths


def test_timecodes_come_from_the_stitch_timeline(sheet: tuple[Path, Path, Path]) -> None:
    series, episodes, out = sheet
    text = out.read_text("utf-8")
    _, laid_out = cuts(series, episodes)
    ep01 = laid_out[0]
    assert [i.name for i in ep01.items] == ["title card", "ballad", "reply"]
    # ballad after the 2 s title card; reply starts 0.5 s before ballad ends (the crossfade)
    assert ep01.timeline.starts == (0, 60, 345) and ep01.duration == 16.5
    assert "00:00:02:00 – 00:00:12:00 · 10.00 s" in text
    assert "00:00:11:15 – 00:00:16:15 · 5.00 s" in text
    assert "runtime <b>00:00:16:15</b> (16.50 s" in text
    assert "runtime <b>00:00:08:15</b> (8.50 s" in text  # ep02: a fade and an end card


def test_each_label_links_to_its_reference(sheet: tuple[Path, Path, Path]) -> None:
    page = Page(sheet[2].read_text("utf-8"))
    labels = page.having("a", "label")
    ids = {a["id"] for _, a in page.elements if "id" in a}
    assert labels and all(a["href"][1:] in ids for a in labels)
    ballad = {a["href"]: a["title"] for a in labels if a["href"].startswith("#ep01-ballad-")}
    assert ballad == {"#ep01-ballad-Video_1": "sam", "#ep01-ballad-Image_1": "guitar",
                      "#ep01-ballad-Image_2": "mia"}
    # in ep02 the same character has another label: Image 1 is mia there
    assert {a["title"] for a in labels if a["href"] == "#ep02-order-Image_1"} == {"mia"}


def test_panels_show_plan_lock_dialogue_and_media(sheet: tuple[Path, Path, Path]) -> None:
    series, episodes, out = sheet
    text = out.read_text("utf-8")
    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"]
    ballad = lock["coffee-shop/ep01/ballad"]
    assert ballad["hash"][:12] in text and ballad["task_id"] in text
    assert text.count('class="status status-cached"') == 7  # 4 shots and their 3 boards
    assert "the last frame of shot ballad" in text
    assert "crossfade 0.5 s" in text and "fade 0.5 s" in text
    assert "“That was lovely.”" in text and "(Image 2, 3-10s)" in text
    assert 'src="../' not in text or "voices/mia.wav" in text
    page = Page(text)
    assert [a["src"] for a in page.having("video", "episode-video")] == [
        Path(_rel(episodes / f"{e}.mp4", out.parent)).as_posix() for e in ("ep01", "ep02")]
    stills = page.having("div", "stills")
    assert [a.get("data-from") for a in stills if a.get("data-from")] == ["render"] * 4


def _rel(target: Path, start: Path) -> str:
    import os
    return os.path.relpath(target, start)


def test_billed_costs_come_from_the_lock_file(rendered_example: tuple[Path, Path],
                                              tmp_path: Path) -> None:
    series = tmp_path / "paid" / "coffee-shop"
    shutil.copytree(rendered_example[0], series)
    lock_file = series / "storyboard.lock"
    lock = json.loads(lock_file.read_text("utf-8"))
    lock["shots"]["coffee-shop/ep01/ballad"].update(cost=1.25, billed_seconds=12.5)
    lock["shots"]["coffee-shop/ep02/serve"].update(cost=0.5, failed_cost=0.25, failed_tasks=1)
    lock_file.write_text(json.dumps(lock), "utf-8")
    out = build_sheet(series, out=tmp_path / "s.html", episodes_dir=rendered_example[1]).html
    text = out.read_text("utf-8")
    assert "1.25 USD, 12.5 s billed" in text
    # a take's billed failures before it (an unusable result paid for) are spent too
    assert "spent <b>1.25 USD</b>" in text and "spent <b>0.75 USD</b>" in text
    assert "spent (lock file) <b>2.00 USD</b>" in text


def test_an_unrendered_series_shows_its_references(tmp_path: Path) -> None:
    series = copy_example(tmp_path)
    (series / "storyboard.lock").unlink()
    result = build_sheet(series, out=tmp_path / "sheet.html", episodes_dir=tmp_path / "none")
    text = result.html.read_text("utf-8")
    page = Page(text)
    assert result.panels == 4 and "not stitched yet" in text and "<video" not in text
    assert [a.get("data-from") for a in page.having("div", "stills")] == ["references"] * 4
    assert text.count('class="status status-new"') == 4
    assert "not rendered yet" in text
    # cards are not rendered for a sheet: they are drawn with CSS from their settings
    assert 'class="card-face" style="background: #3b2418; color: white"' in text
    assert not (series / ".storyboard" / "cards").exists()
    # nominal lengths on the same clock: 2 + 10 + 5 - 0.5
    assert "runtime <b>00:00:16:15</b>" in text


def test_a_changed_shot_says_what_changed(rendered_example: tuple[Path, Path],
                                          tmp_path: Path) -> None:
    series = tmp_path / "edited" / "coffee-shop"
    shutil.copytree(rendered_example[0], series)
    episode = series / "episodes" / "02-the-regular.yaml"
    episode.write_text(episode.read_text("utf-8").replace("duration: 3", "duration: 4"), "utf-8")
    text = build_sheet(series, out=tmp_path / "s.html", episodes_dir=rendered_example[1]
                       ).html.read_text("utf-8")
    assert text.count('class="status status-changed"') == 1 and "duration: 3 -&gt; 4" in text
    assert "(an earlier version of this shot)" in text


def test_a_broken_series_still_gets_a_sheet_with_problems_on_their_shots(tmp_path: Path) -> None:
    series = copy_example(tmp_path)
    first = series / "episodes" / "01-first-meeting.yaml"
    first.write_text(first.read_text("utf-8").replace("@guitar and grins", "@guitr and grins")
                     .replace("duration: 0.5", "duration: 9"), "utf-8")
    second = series / "episodes" / "02-the-regular.yaml"
    second.write_text(second.read_text("utf-8").replace("duration: 3", "duration: 30"), "utf-8")
    out = tmp_path / "sheet.html"
    result = CliRunner().invoke(cli, ["sheet", str(series), "-o", str(out)])
    assert result.exit_code == 1 and "3 error(s) found" in result.output
    page = Page(out.read_text("utf-8"))
    broken = [a["data-shot"] for a in page.having("article", "has-problems")]
    assert broken == ["reply", "serve"]
    text = out.read_text("utf-8")
    assert "unknown character @guitr (did you mean &#39;guitar&#39;?)" in text
    assert "episodes/02-the-regular.yaml:14:15: error: a 30 s shot" in text


def test_a_sheet_folder_inside_the_series_linked_outside_is_never_written_through(
        tmp_path: Path) -> None:
    """``-o`` a page inside the series under a link that leads outside it (``review`` ->
    elsewhere): refused naming the link, nothing written where it points."""
    series, elsewhere = copy_example(tmp_path), tmp_path / "elsewhere"
    elsewhere.mkdir()
    (series / "review").symlink_to(elsewhere, target_is_directory=True)
    result = CliRunner().invoke(cli, ["sheet", str(series), "-o", str(series / "review" / "s.html")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{series / 'review'} is a link (to {elsewhere})" in result.output, result.output
    assert list(elsewhere.iterdir()) == []


def test_user_text_is_escaped_and_card_colours_cannot_carry_css(tmp_path: Path) -> None:
    series = copy_example(tmp_path)
    second = series / "episodes" / "02-the-regular.yaml"
    text = second.read_text("utf-8").replace(
        '"The usual? 100% oat, no sugar."', '"<script>alert(1)</script> & \\"quotes\\""').replace(
        'color: "0x3b2418"', 'color: "red; background: url(http://x)"')
    second.write_text(text, "utf-8")
    html = build_sheet(series, out=tmp_path / "s.html", episodes_dir=tmp_path).html.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in html
    # The colour may be quoted, escaped, in a problem's message (check refuses it), never in CSS.
    styles = re.findall(r'style="([^"]*)"', html) + re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles and not any("url(http" in style for style in styles)


def test_the_contact_sheet_is_a_grid_of_the_shots(sheet: tuple[Path, Path, Path]) -> None:
    picture = sheet[2].with_suffix(".png").read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", picture[16:24])
    assert (width, height) == (4 * 320, 180 + 40)  # four shots in one row, captions under them


def test_sheet_of_a_path_that_is_not_a_series_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sheet", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no such file or folder" in result.output


# --- units --------------------------------------------------------------------------------


def test_segments_tie_labels_to_their_references() -> None:
    refs = {"Image 1": Reference("Image 1", "guitar", "reference_image", "g.png", "a-Image_1")}
    got = segments("Video 1 holds Image 1. Image 10 no, Image 1!", refs)
    assert [(s.text, s.anchor) for s in got] == [
        ("Video 1 holds ", ""), ("Image 1", "a-Image_1"), (". Image 10 no, ", ""),
        ("Image 1", "a-Image_1"), ("!", "")]


@pytest.mark.parametrize(("value", "css"), [
    ("black", "black"), ("0x3B2418", "#3b2418"), ("#ffffff", "#ffffff"),
    ("red;x:y", "gray"), ("url(http://x)", "gray"), ("", "gray")])
def test_card_colours_become_plain_css_colours(value: str, css: str) -> None:
    assert css_color(value) == css


def test_frame_times_land_on_the_first_middle_and_last_frame() -> None:
    times = dict(frame_times(5.0, Fraction(30)))
    assert times["first"] == 0.0
    assert round(times["middle"] * 30 + 0.25) == 74 and round(times["last"] * 30 + 0.25) == 149


@pytest.mark.parametrize(("frame", "fps", "code"), [
    (0, Fraction(30), "00:00:00:00"), (345, Fraction(30), "00:00:11:15"),
    (30 * 3661 + 29, Fraction(30), "01:01:01:29"), (25, Fraction(25), "00:00:01:00")])
def test_timecodes(frame: int, fps: Fraction, code: str) -> None:
    assert timecode(frame, fps) == code


def test_by_default_the_sheet_goes_beside_the_episodes(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    copy_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sheet", "coffee-shop"])
    assert result.exit_code == 0, result.output
    assert "coffee-shop/out/sheet.html (2 episode(s), 4 shot(s))" in result.output
    assert (tmp_path / "coffee-shop" / "out" / "sheet.html").is_file()
    assert not (tmp_path / "coffee-shop" / "out" / "sheet.png").exists()


# --- every kind of bad input still gets a sheet, its problem on it -------------------------------

BAD_DOCUMENTS = [
    "storyboard: 1\ntitle: [unclosed\n",
    "storyboard: 1\ntitle: a\ntitle: b\n",
    "storyboard: 2\n",
    "storyboard: 1\ncharacters:\n  x: {image: a.png, video: b.mp4}\nprovider: nope\n",
    "storyboard: 1\nepisodes:\n  - id: e\n    title_card: {text: hi, image: gone.png}\n"
    "    shots: [{id: s, prompt: '@ghost'}]\n",
]


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_each_located_problem_lands_on_the_sheet(tmp_path: Path, make_media: MakeMedia,
                                                 name: str) -> None:
    _, episodes, _, fragment = next(c for c in CASES if c[0] == name)
    head = SERIES_HEAD + SIX + "\n" if name == "six references" else SERIES_HEAD
    series = write_series(tmp_path / "s", make_media, episodes, head=head)
    result = build_sheet(series, out=tmp_path / "sheet.html", episodes_dir=tmp_path / "none")
    page = html.unescape(result.html.read_text("utf-8"))
    assert fragment in page
    assert any(d.severity == "error" for d in result.problems)


@pytest.mark.parametrize("text", BAD_DOCUMENTS)
def test_a_broken_document_still_gets_a_sheet(tmp_path: Path, text: str) -> None:
    (tmp_path / "storyboard.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sheet", str(tmp_path), "-o", str(tmp_path / "s.html")])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "error(s) found" in result.output
    page = html.unescape((tmp_path / "s.html").read_text("utf-8"))
    assert "storyboard.yaml:" in page  # the located problems are on the page


def test_contact_sheet_cells_without_a_still_and_tricky_captions(tmp_path: Path,
                                                                 make_media: MakeMedia) -> None:
    from storyboard.media import ffmpeg
    image = make_media("image", tmp_path / "a.png", width=640, height=360)
    tricky = tmp_path / "caption.txt"
    tricky.write_text("ep'01 #1 \"a:b\" 100% {x} %{pts} \\ · 2.00 s", encoding="utf-8")
    # the same still twice (two shots that compile alike share one render), and a blank
    cells = [(image, tricky), (None, tricky), (image, tricky), (None, tricky), (image, tricky)]
    out = ffmpeg.contact_sheet(cells, tmp_path / "grid.png", columns=2, width=320, height=180)
    width, height = struct.unpack(">II", out.read_bytes()[16:24])
    assert (width, height) == (2 * 320, 3 * (180 + 40))


def test_with_a_paid_provider_the_sheet_shows_its_estimates(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import storyboard
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-never-sent")
    series = example.copy_example(tmp_path / "coffee-shop", ignore=shutil.ignore_patterns(
        ".storyboard", "out", "storyboard.lock"))  # never rendered: each shot new
    the_plan = storyboard.plan(series, provider="dashscope")
    result = build_sheet(series, out=tmp_path / "s.html", provider="dashscope",
                         episodes_dir=tmp_path / "none")
    text = result.html.read_text("utf-8")
    assert text.count('class="status status-new"') == 4 and "provider <b>dashscope</b>" in text
    for shot in the_plan.shots:
        assert f"<dt>estimated</dt><dd>{shot.cost:.2f} USD</dd>" in text
    assert f"estimated <b>{the_plan.total_cost:.2f} USD</b>" in text
    assert "sk-never-sent" not in text


def test_links_to_files_with_url_characters_in_their_names_reach_the_files(
        tmp_path: Path, make_media: MakeMedia) -> None:
    from urllib.parse import unquote, urljoin, urlsplit
    series = copy_example(tmp_path)
    episodes = tmp_path / "cut #1 ?a=b %41 100%"
    for ep in ("ep01", "ep02"):
        make_media("video", episodes / f"{ep}.mp4", seconds=1)
    out = tmp_path / "sheet.html"
    result = CliRunner().invoke(cli, ["sheet", str(series), "-o", str(out), "--episodes",
                                      str(episodes)])
    assert result.exit_code == 0, result.output
    links = [a["src"] for a in Page(out.read_text("utf-8")).having("video", "episode-video")]
    assert len(links) == 2
    for link, ep in zip(links, ("ep01", "ep02"), strict=True):
        url = urlsplit(urljoin(out.resolve().as_uri(), link))
        assert not url.query and not url.fragment, link
        assert Path(unquote(url.path)) == (episodes / f"{ep}.mp4").resolve()
