"""The package page's long description (tools/long_description.py, run by hatch through
tools/hatch_metadata.py): README.md with no relative link or image, which go nowhere there."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from types import ModuleType

from tests.fixtures.paths import ROOT


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("long_description", ROOT / "tools" / "long_description.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LONG = tool()
README = (ROOT / "README.md").read_text("utf-8")
RELATIVE = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#)[^)]*\)")
DOCS, FILES = "https://docs.example/storyboard", "https://code.example/storyboard/blob/v0.1.0/{path}"


def test_readme_has_relative_links_and_an_image_the_package_page_cannot_follow() -> None:
    assert RELATIVE.search(README) and "![" in README


def test_with_the_addresses_every_link_and_the_image_is_absolute() -> None:
    text = LONG.absolute_links(README, DOCS, FILES)
    assert not RELATIVE.search(text)
    assert f"![The contact sheet of the example series (storyboard sheet --png)]({DOCS}/sheet.png)" in text
    assert f"[docs/models.md]({DOCS}/models/)" in text
    assert f"[takes]({DOCS}/review/#working-with-takes)" in text
    assert ("[`schemas/storyboard.schema.json`](https://code.example/storyboard/blob/v0.1.0/"
            "schemas/storyboard.schema.json)") in text


def test_without_addresses_links_are_their_text_and_the_image_is_gone() -> None:
    text = LONG.absolute_links(README)
    assert not RELATIVE.search(text) and "![" not in text
    assert "\ndocs/models.md)" in text and "[takes]" not in text and "(see\ntakes" in text
    assert LONG.absolute_links("[a](https://x.example/a) [b](#b)") == "[a](https://x.example/a) [b](#b)"


def test_project_urls_are_only_the_known_ones_and_none_is_made_up() -> None:
    hook = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["hatch"]["metadata"][
        "hooks"]["custom"]
    assert hook["path"] == "tools/hatch_metadata.py"
    assert {hook[k] for k in ("documentation", "repository", "files")} == {""}  # none exists yet
    assert LONG.project_urls(hook) == {}
    assert LONG.project_urls({"documentation": DOCS, "repository": "https://code.example/sb"}) == {
        "Documentation": DOCS, "Source": "https://code.example/sb"}
