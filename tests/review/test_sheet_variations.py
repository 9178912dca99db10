"""The review sheet and the editor export of a series with variations (examples/ad: 7 of them).

One page for the whole matrix: a section per variation (its name and its axes' values) with its
episodes and shot panels; a shot that comes out identical in several variations says so; plan
statuses and the matrix total come from one plan over every variation, as `storyboard plan`
makes it. A variation that does not compile still gets its section, its problem shown. The
export writes one timeline per variation and episode, read back here with OpenTimelineIO.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.language.variations import compile_variations
from storyboard.media import ffmpeg
from storyboard.review.export import export_variations
from storyboard.review.progress import money
from storyboard.review.sheet import build_sheet

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ad"
NAMES = ["espresso-en-9x16", "espresso-en-16x9", "espresso-es-9x16", "espresso-es-16x9",
         "latte-en-9x16", "latte-en-16x9", "latte-es-9x16"]
SHOTS = ["hook", "hero", "testimonial", "cta"]
RENDERED = ("espresso-en-9x16", "latte-en-9x16")  # by the rendered_ad fixture
PANEL = re.compile(r'<article class="panel shot[^"]*" id="([^"]+)" data-shot="([^"]+)"[^>]*>\s*'
                   r'<h3>(.*?)</h3>(.*?)</article>', re.S)


def copy_ad(tmp_path: Path) -> Path:
    series = tmp_path / "ad"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    return series


def sections(page: str) -> dict[str, str]:
    """Each variation's section of the page, by name, in page order."""
    found = {}
    for part in page.split('<section class="variation"')[1:]:
        name = re.search(r'data-variation="([^"]+)"', part)
        assert name is not None
        found[name.group(1)] = part
    return found


def panels(section: str) -> dict[str, tuple[str, str]]:
    """shot id -> (heading, body) of each shot panel in a section."""
    return {m.group(2): (m.group(3), m.group(4)) for m in PANEL.finditer(section)}


@pytest.fixture(scope="module")
def ad_sheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    series = copy_ad(tmp_path_factory.mktemp("ad-sheet"))
    result = build_sheet(series, out=series.parent / "sheet.html", provider="dashscope")
    assert (result.variations, result.episodes, result.panels) == (7, 7, 28)
    assert [d for d in result.problems if d.severity == "error"] == []
    return result.html, result.html.read_text(encoding="utf-8")


def test_a_section_per_variation_with_its_vars_episodes_and_panels(ad_sheet: tuple[Path, str]
                                                                   ) -> None:
    _, page = ad_sheet
    found = sections(page)
    assert list(found) == NAMES
    for name, section in found.items():
        assert list(panels(section)) == SHOTS, name
        assert section.count('<section class="episode"') == 1
        assert section.count('data-card="end_card"') == 1
    assert "<code>product = latte</code> <code>lang = es</code> <code>ratio = 9:16</code>" \
        in found["latte-es-9x16"]
    assert 'data-variation="latte-es-16x9"' not in page  # excluded by the matrix
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # anchors stay unique across variations


def test_a_shared_shot_is_marked_with_the_variations_sharing_it(ad_sheet: tuple[Path, str]
                                                                ) -> None:
    _, page = ad_sheet
    found = sections(page)
    variants = compile_variations(EXAMPLE)
    users: dict[str, list[str]] = {}
    for variant in variants.variants:
        assert variant.manifest is not None
        for shot in variant.manifest.shots():
            users.setdefault(shot.hash, []).append(str(variant.name))
    marked = 0
    for variant in variants.variants:
        assert variant.manifest is not None
        shown = panels(found[str(variant.name)])
        for shot in variant.manifest.shots():
            heading, _ = shown[shot.id]
            others = [n for n in users[shot.hash] if n != variant.name]
            if not others:
                assert "shared with" not in heading
                continue
            marked += 1
            noun = "variations" if len(others) > 1 else "variation"
            assert f'title="{", ".join(others)}">shared with {len(others)} {noun}<' in heading
    assert marked == 13  # hooks: 4 (9:16) + 3 (16:9); heroes: 2 per product and ratio but 1
    hook, _ = panels(found["espresso-en-9x16"])["hook"]  # the 9:16 hook: one for four variations
    assert "shared with 3 variations" in hook


def test_statuses_and_the_total_come_from_one_plan_over_all_variations(
        ad_sheet: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, page = ad_sheet
    monkeypatch.chdir(tmp_path)
    planned = CliRunner().invoke(cli, ["plan", str(EXAMPLE), "--provider", "dashscope", "--json"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["total_cost"] > 0
    assert f"matrix total to render <b>{money(plan['total_cost'], plan['currency'])}</b>" in page
    assert f"{plan['distinct_shots']} distinct shot(s) after sharing" in page
    _, body = panels(sections(page)["latte-en-9x16"])["hook"]
    assert "same request as ad/espresso-en-9x16/ad/hook: rendered once for both" in body


def test_the_same_inputs_give_the_same_bytes(ad_sheet: tuple[Path, str]) -> None:
    html, page = ad_sheet
    again = build_sheet(html.parent / "ad", out=html, provider="dashscope")
    assert again.html.read_bytes() == page.encode("utf-8")


def test_variation_selection_like_the_other_commands(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    series = copy_ad(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sheet", str(series), "--variation", "latte-*",
                                      "--variation", "espresso-es-16x9"])
    assert result.exit_code == 0, result.output
    assert "(4 variation(s), 4 episode(s), 16 shot(s))" in result.output
    page = (series / "out" / "sheet.html").read_text(encoding="utf-8")
    assert list(sections(page)) == ["espresso-es-16x9", "latte-en-9x16", "latte-en-16x9",
                                    "latte-es-9x16"]
    bad = CliRunner().invoke(cli, ["sheet", str(series), "--var", "not a pair"])
    assert bad.exit_code == 2 and "expected KEY=VALUE" in bad.output


def test_a_broken_variation_still_gets_its_section_with_the_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    series = copy_ad(tmp_path)
    config = series / "storyboard.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    latte: a silky leaf of latte art\n", ""), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sheet", str(series), "-o", "sheet.html"])
    assert result.exit_code == 1 and "1 error(s) found" in result.output
    assert "(7 variation(s), 7 episode(s), 28 shot(s))" in result.output
    assert "[in variation(s) latte-en-9x16, latte-en-16x9, latte-es-9x16]" in result.output
    found = sections((tmp_path / "sheet.html").read_text(encoding="utf-8"))
    assert list(found) == NAMES
    for name, section in found.items():
        broken = "has no attribute &#39;latte&#39;" in section
        assert broken == name.startswith("latte"), name
        assert list(panels(section)) == SHOTS  # what compiles is still shown


def test_a_series_without_a_matrix_keeps_its_page(rendered_example: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    series, episodes = rendered_example
    page = build_sheet(series, out=tmp_path / "s.html", episodes_dir=episodes)
    text = page.html.read_text(encoding="utf-8")
    assert page.variations == 0 and "section.variation" not in text and "shared with" not in text
    assert 'id="ep01-ballad"' in text  # anchors without a variation prefix


def rendered_hashes(series: Path) -> dict[str, list[bool]]:
    """variation -> whether each of its shots is rendered (the two rendered variations' hashes)."""
    variants = compile_variations(series)
    done = {s.hash for v in variants.variants if v.name in RENDERED and v.manifest
            for s in v.manifest.shots()}
    return {str(v.name): [s.hash in done for s in v.manifest.shots()]
            for v in variants.variants if v.manifest is not None}


def test_the_rendered_variations_show_their_renders_and_videos(rendered_ad: tuple[Path, Path]
                                                               ) -> None:
    series, episodes = rendered_ad
    result = build_sheet(series, episodes_dir=episodes, draft=True)
    assert result.html == episodes / "draft" / "sheet.html"  # beside the variations' folders
    found = sections(result.html.read_text(encoding="utf-8"))
    done = rendered_hashes(series)
    assert done["espresso-es-9x16"] == [True, True, False, False]  # the hook and the hero
    for name, section in found.items():
        assert re.findall(r'class="status status-([a-z]+)"', section) == [
            "cached" if d else "new" for d in done[name]], name
        assert re.findall(r'<div class="stills" data-from="([a-z]+)"', section) == [
            "render" if d else "references" for d in done[name]], name
        assert (f'src="{name}/ad.mp4"' in section) == (name in RENDERED), name


def test_export_writes_a_timeline_per_variation_and_episode(rendered_ad: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    series, episodes = rendered_ad
    result = CliRunner().invoke(cli, ["export", str(series), "--draft", "--format", "otio",
                                      "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    done = rendered_hashes(series)
    for name in NAMES:
        file = tmp_path / name / "ad.otio"
        assert f"wrote {file}" in result.output
        timeline = otio.adapters.read_from_file(str(file))
        clips = list(timeline.video_tracks()[0].find_clips())
        assert [c.name for c in clips] == [*SHOTS, "end card"]
        assert [c.metadata["storyboard"].get("shot") for c in clips[:4]] == SHOTS
        assert [not isinstance(c.media_reference, otio.schema.MissingReference)
                for c in clips[:4]] == done[name], name
        seconds = timeline.duration().to_seconds()
        if name in RENDERED:
            stitched = ffmpeg.stream_lengths(episodes / "draft" / name / "ad.mp4")["video"]
            assert seconds == pytest.approx(stitched, abs=0.05), name
        else:
            assert seconds == pytest.approx(sum(c.duration().to_seconds() for c in clips))
    assert "warning: latte-es-9x16: ad/cta is not rendered yet" in result.output


def test_export_variations_api_keys_durations_by_variation(rendered_ad: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    series, _ = rendered_ad
    variants = compile_variations(series, select=["latte-*"])
    messages: list[str] = []
    result = export_variations(variants, "edl", out=tmp_path, draft=True,
                               warn=messages.append)
    assert sorted(result.durations) == ["latte-en-16x9/ad", "latte-en-9x16/ad", "latte-es-9x16/ad"]
    assert [f.relative_to(tmp_path).as_posix() for f in result.files] == [
        "latte-en-9x16/ad.edl", "latte-en-16x9/ad.edl", "latte-es-9x16/ad.edl"]
    assert sum("an EDL holds one video track" in m for m in messages) == 1  # said once
    assert "latte-es-9x16: ad/cta is not rendered yet" in " ".join(messages)
    for file in result.files:
        timeline = otio.adapters.read_from_file(str(file))
        assert [c.name for c in timeline.video_tracks()[0].find_clips()] == [*SHOTS, "end card"]


def test_one_selected_variation_calls_no_product_unused(tmp_path: Path) -> None:
    """The sheet drops "is never used" as ``check --variation`` does: another variation may use
    the product."""
    series = copy_ad(tmp_path)
    result = build_sheet(series, out=tmp_path / "one.html", select=["latte-en-9x16"])
    assert result.variations == 1
    assert not [d.message for d in result.problems if "is never used" in d.message]
    assert "is never used" not in (tmp_path / "one.html").read_text(encoding="utf-8")
