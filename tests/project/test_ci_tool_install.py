"""CI's tool-install step (.ci/tool-install.sh) runs README's "As a tool, from a clone" lines as
written, with pipx and with uv, and runs the missing-extra hint as printed (issue 65, items 1, 2)."""

from __future__ import annotations

import re

from tests.fixtures.paths import ROOT

SCRIPT = (ROOT / ".ci" / "tool-install.sh").read_text("utf-8")
README = (ROOT / "README.md").read_text("utf-8")


def readme_block() -> str:
    section = README.split("### As a tool, from a clone", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found is not None, "README's tool section has no sh block"
    return found.group(1)


def installs(text: str) -> set[str]:
    return set(re.findall(r"(?:pipx|uv tool) install (?:\.|'\.\[[\w,-]+\]')", text))


def test_the_step_runs_every_tool_install_line_of_the_readme() -> None:
    written = installs(readme_block())
    assert written == {"pipx install .", "pipx install '.[studio,export]'", "uv tool install .",
                       "uv tool install '.[studio,export]'"}
    assert installs(SCRIPT) == written


def test_the_step_runs_the_hint_as_printed_and_checks_what_it_added() -> None:
    assert 'eval "$command"' in SCRIPT and "add the extra with: " in SCRIPT
    assert SCRIPT.count("hint_adds_the_studio \"$") == 2  # under pipx and under uv tool
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "\n.ci/tool-install.sh\n" in ci
