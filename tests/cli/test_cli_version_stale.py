"""A language version whose cut changed is said stale, on DashScope's emulator (issue 97): a
costume change (the character's picture) re-renders the shots the Spanish version stands on;
``plan --language es``, ``check`` (at her picture's line, a look's when a look changed, the
shot's when its YAML did), ``status``, ``status --season`` and the
delivery (the Spanish rows and files of the old cut leave ``out/season/``) say so, each with the
command that brings it back; approved again and ``version render``, it is current again."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.media import samples
from storyboard.review.studio.state import Studio
from tests.cli.test_cli_season_versions import SERIES, VERSION
from tests.fixtures.dashscope_cli import EMULATOR_SETTINGS, invoke, set_env

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

BACK = "storyboard version render {root} es"


def rows(root: Path) -> list[tuple[str, str]]:
    found: list[dict[str, Any]] = json.loads(
        (root / "out" / "season" / "manifest.json").read_text("utf-8"))["episodes"]
    return [(r["id"], r["language"]) for r in found]


def ok(*args: str | Path) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def dubbed(root: Path) -> None:
    """The series rendered, approved, its Spanish version made and delivered."""
    samples.image(root / "media" / "mia.png", 480, 480)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    ok("render", root, "--provider", "dashscope", "--yes")
    for shot in ("ep01/hello", "ep02/bye"):
        ok("approve", root, shot, "--force")
    folder = root / "languages" / "es"
    folder.mkdir(parents=True)
    (folder / "ep01.yaml").write_text(VERSION.format(
        episode="ep01", shot="hello", at="1-3s", source="To us, and to the shop.",
        text="Por nosotros y por la tienda."), encoding="utf-8")
    (folder / "ep02.yaml").write_text(VERSION.format(
        episode="ep02", shot="bye", at="0-2s", source="Bye now.", text="Adiós."),
        encoding="utf-8")
    ok("version", "render", root, "es", "--provider", "dashscope", "--yes")
    ok("render", root, "--provider", "dashscope", "--yes")


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """``dubbed`` made once for the module's tests, on one emulator they share: the series'
    folder (where each test works) and its base URL. Each test gets the folder as ``dubbed`` left
    it (``series``), at the same path, so nothing it holds names another place."""
    with pytest.MonkeyPatch.context() as patch:
        set_env(patch)
        server = EmulatorServer(**{**EMULATOR_SETTINGS, "plain_results": False}).start()
        try:
            patch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
            root = tmp_path_factory.mktemp("version-stale") / "dubbed"
            dubbed(root)
            shutil.copytree(root, root.with_name("as-made"), symlinks=True)
            yield root, server.base_url
        finally:
            server.stop()


@pytest.fixture
def series(made_once: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dubbed series as it was made (whatever an earlier test of the module did to it)."""
    root, base_url = made_once
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", base_url)
    shutil.rmtree(root)
    shutil.copytree(root.with_name("as-made"), root, symlinks=True)
    return root


def said_stale(root: Path) -> dict[str, str]:
    """What each read says of the versions: plan, check, status, status --season."""
    plan = invoke("plan", root, "--language", "es", "--provider", "dashscope")
    check = invoke("check", root)
    status = invoke("status", root)
    season = invoke("status", root, "--season")
    studio = Studio(root, render_drafts=False, provider="dashscope")
    studio.refresh()  # what its /state JSON says: the check's problems
    return {"plan": plan.output, "check": check.output, "status": status.output,
            "season": season.output, "studio": json.dumps(studio.snapshot.problems)}


def test_a_costume_change_makes_the_spanish_version_stale_until_it_is_made_again(
        series: Path) -> None:
    root = series
    assert rows(root) == [("ep01", "en"), ("ep01", "es"), ("ep02", "en"), ("ep02", "es")]
    assert not any("stale" in text for text in said_stale(root).values())
    studio = Studio(root)  # its language switch plays the stitched version
    studio.refresh()
    page = studio.snapshot.current.page.whole
    assert "not dubbed yet" not in page
    assert 'class="version-video" controls preload="metadata" src="/file/series/out/es/ep01.mp4"' \
        in page

    samples.image(root / "media" / "mia.png", 480, 480, color="red")  # her new costume
    refused_as_a_costume_change(root)
    result = invoke("render", root, "--provider", "dashscope", "--yes", "--replace-approved")
    assert result.exit_code == 0, result.output
    assert rows(root) == [("ep01", "en"), ("ep02", "en")]  # the old cut's Spanish episodes left
    assert not (root / "out" / "season" / "es" / "ep01.mp4").exists()
    assert ("season: ep01 (es) left out (the es version of ep01 is stale: its cut changed since "
            "it was made (ep01/hello is no longer approved (rendered again since, its approval "
            "lifted))" in result.stderr), result.stderr
    back = (f"bring it back: approve ep01/hello as they are now (storyboard approve {root} "
            f"ep01), then {BACK.format(root=root)}")
    said = said_stale(root)
    assert "the es version of ep01, ep02: stale for ep01, ep02" in said["plan"], said["plan"]
    for read, text in said.items():
        assert "the es version of ep01 is stale" in text and back in text, (read, text)
    assert ("storyboard.yaml:11:16: warning: mia's picture changed what ep01/hello wears (Image 1 "
            "(mia): content changed (media/mia.png)): the es version of ep01 is stale"
            in said["check"]), said["check"]  # her picture's line: what changed
    season = json.loads(invoke("status", root, "--season", "--json", "--provider",
                               "dashscope").stdout)
    assert [(s["episode"], s["to_approve"]) for s in season["versions_stale"]] == [
        ("ep01", ["ep01/hello"]), ("ep02", ["ep02/bye"])]

    approved = ok("approve", root, "ep0*", "--force")  # the new takes approved: still stale
    assert approved == ("approving 2 shot(s) of ep01, ep02:\n  approved take 1 of ep01/hello\n"
                        "  approved take 1 of ep02/bye\napproved 2 shot(s), skipped 0\n")
    said = said_stale(root)
    assert ("ep01/hello was approved anew since (take 1 as it is now; the version is of take 1 "
            "as it was)" in said["check"]), said["check"]
    assert f"bring it back: {BACK.format(root=root)}" in said["check"], said["check"]

    ok("version", "render", root, "es", "--provider", "dashscope", "--yes")
    assert not any("stale" in text for text in said_stale(root).values())
    ok("render", root, "--provider", "dashscope", "--yes")
    assert rows(root) == [("ep01", "en"), ("ep01", "es"), ("ep02", "en"), ("ep02", "es")]


def refused_as_a_costume_change(root: Path) -> None:
    """The approved shots wearing her picture are refused for what they wear, not their YAML,
    naming the version that stands on them; by ``render`` once, by ``season render`` at each
    shot's line; ``check`` warns of each before (exit 0), at the same line, in the same words."""
    check = invoke("check", root)
    assert check.exit_code == 0, check.output
    assert (f"{root / 'storyboard.yaml'}:16:9: warning: ep01/hello was approved (take 1) and "
            "what it wears changed since, not its YAML (Image 1 (mia): content changed "
            "(media/mia.png)): pass --replace-approved" in check.output), check.output
    assert "what it wears\n          - id: hello\n            ^\n" in check.output, check.output
    found = json.loads(invoke("check", root, "--json").stdout)
    assert [(d["line"], d["severity"]) for d in found if d["code"] == "approved-changed"] == [
        (16, "warning"), (22, "warning")], found
    result = invoke("render", root, "--provider", "dashscope", "--yes")
    assert result.exit_code == 1, result.output
    assert ("approved shot(s) changed since they were approved: ep01/hello (take 1), ep02/bye "
            "(take 1): what they wear changed, not their YAML (" in result.output), result.output
    assert ("Pass --replace-approved to render the changed shots again, which lifts their "
            "approvals (the es version of ep01, ep02 stands on them: stale until they are "
            "approved and it is made again), or put back what they wear." in result.output)
    assert "revert" not in result.output
    result = invoke("season", "render", root, "--provider", "dashscope", "--yes")
    assert result.exit_code == 1, result.output
    assert ("storyboard.yaml:16:9: error: ep01/hello was approved (take 1) and what it wears "
            "changed since, not its YAML (" in result.output), result.output
    assert ("pass --replace-approved to render it again (it lifts its approval, which the es "
            "version of ep01 stands on (stale until it is approved and made again)), or put back "
            "what it wears" in result.output), result.output


def test_checks_stale_warning_is_at_the_look_that_changed_or_the_shot(
        series: Path, make_media: Callable[..., Path]) -> None:
    """A look worn from episode 2 makes ep02's version stale at the look's line (said so); a
    shot's own YAML edited keeps ep01's at the shot's line."""
    root = series
    make_media("image", root / "media" / "coat.png", width=480, height=480, color="blue")
    text = (root / "storyboard.yaml").read_text("utf-8").replace(
        "  mia: {image: media/mia.png, voice: mia-voice}",
        "  mia:\n    image: media/mia.png\n    voice: mia-voice\n"
        '    looks:\n      coat: {image: media/coat.png, episodes: "2-"}').replace(
        "@mia raises her cup", "@mia raises her mug")
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    ok("render", root, "--provider", "dashscope", "--yes", "--replace-approved")
    check = invoke("check", root).output
    warned = "\n".join(line[:line.find(" is stale") + 9] for line in check.splitlines())
    at = f"{root / 'storyboard.yaml'}:"
    assert f"{at}20:9: warning: the es version of ep01 is stale" in warned, check  # the shot's
    assert (f"{at}15:7: warning: mia's look coat changed what ep02/bye wears (Image 1 (mia): "
            "content changed (media/coat.png)): the es version of ep02 is stale") in warned, check
