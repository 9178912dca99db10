"""``approve SERIES EP`` (and a glob of episodes) approves each shot of the episodes named, saying
each and skipping, with why, a shot it cannot approve (issue 97), then exiting 1 where it skipped
one: on ``local``, free."""

from __future__ import annotations

import json
from pathlib import Path

from storyboard.media import samples
from tests.fixtures.cli import invoke

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
characters:
  ada: {image: media/ada.png}
episodes:
  - {id: ep01, shots: [{id: a, prompt: "@ada answers"}, {id: b, prompt: "@ada hangs up"}]}
  - {id: ep02, shots: [{id: a, prompt: "@ada walks in"}]}
  - {id: pilot, shots: [{id: a, prompt: "@ada waits"}]}
"""


def test_approve_an_episode_or_a_glob_of_them(tmp_path: Path) -> None:
    root = tmp_path / "night"
    samples.image(root / "media" / "ada.png", 320, 320)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    result = invoke("render", root, "1,3", "--yes")
    assert result.exit_code == 0, result.output
    result = invoke("approve", root, "ep01")
    assert result.exit_code == 0, result.output
    assert result.output == ("approving 2 shot(s) of ep01:\n  approved take 1 of ep01/a\n"
                             "  approved take 1 of ep01/b\napproved 2 shot(s), skipped 0\n")
    result = invoke("approve", root, "ep0*", "--json")
    assert result.exit_code == 1, result.output  # a shot skipped: the episodes are not approved
    found = json.loads(result.stdout)
    assert found["episodes"] == ["ep01", "ep02"]  # the pilot is not ep0*
    assert [(s["shot"], s["take"]) for s in found["approved"]] == [("ep01/a", 1), ("ep01/b", 1)]
    assert [s["shot"] for s in found["skipped"]] == ["ep02/a"]
    assert "no take" in found["skipped"][0]["why"], found["skipped"]
    lock = json.loads((root / "storyboard.lock").read_text("utf-8"))["takes"]
    assert sorted(k for k, v in lock.items() if v.get("approved")) == [
        "night/ep01/a", "night/ep01/b"]
    assert invoke("approve", root, "pilot/*").exit_code == 0
    result = invoke("approve", root, "ep02")  # said, as with --json, then exit 1
    assert result.exit_code == 1
    assert result.output.startswith("approving 1 shot(s) of ep02:\n  skipped ep02/a: ")
    assert result.output.endswith("approved 0 shot(s), skipped 1\n"), result.output
    result = invoke("approve", root, "ep9*")
    assert result.exit_code == 1
    assert "no episode matches 'ep9*'; expected an episode id or a glob of them" in result.output
