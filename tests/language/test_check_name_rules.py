"""A character's and a voice's name: its rule said in words (never a regular expression), and a
"did you mean" that is itself a name the schema takes (issue 97, item 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli as group
from storyboard.language.read.namerule import rule
from tests.fixtures.example import copy_example

CHARACTER = "^[A-Za-z_][A-Za-z0-9_]*$"  # the schema's, as the tests hold it to its words
VOICE = "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
LOOK = "^[a-z_][a-z0-9_]*$"


def messages(series: Path) -> list[str]:
    done = CliRunner().invoke(group, ["check", str(series), "--json"])
    assert done.exit_code == 1, done.output
    return [str(d["message"]) for d in json.loads(done.output)]


def renamed(tmp_path: Path) -> Path:
    """The example with ``mia`` named ``old-man`` (mentioned so) and her voice ``mia voice``."""
    series = copy_example(tmp_path / "series")
    path = series / "storyboard.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  mia: ", "  old-man: ").replace(
        "  mia-voice:", '  "mia voice":').replace("voice: mia-voice", 'voice: "mia voice"'),
        encoding="utf-8")
    episode = series / "episodes" / "01-first-meeting.yaml"
    episode.write_text(episode.read_text(encoding="utf-8").replace("@mia smiles",
                                                                   "@old-man smiles"),
                       encoding="utf-8")
    return series


def test_a_name_s_rule_is_said_in_words_with_a_legal_name_near_it(tmp_path: Path) -> None:
    said = messages(renamed(tmp_path))
    assert ("'old-man' is not a valid character name: a character name is letters, digits and "
            "underscores, starting with a letter or an underscore; did you mean 'old_man'?"
            ) in said
    assert ("'mia voice' is not a valid voice name: a voice name is letters, digits, "
            "underscores, dots and hyphens, starting with a letter, a digit or an underscore; "
            "did you mean 'mia_voice'?") in said
    assert not any("^[" in m or "expected form" in m for m in said)  # no regular expression


def test_a_mention_s_did_you_mean_is_a_legal_name(tmp_path: Path) -> None:
    said = messages(renamed(tmp_path))
    mention = next(m for m in said if m.startswith("unknown character @old "))
    assert "did you mean 'old_man'? rename 'old-man' to it" in mention
    assert mention.endswith("expected one of: @sam, @guitar")  # never the name it refuses
    suggested = re.findall(r"did you mean '([^']*)'", " ".join(said))
    assert suggested and all(re.fullmatch(CHARACTER, s) or re.fullmatch(VOICE, s)
                             for s in suggested)


@pytest.mark.parametrize(("pattern", "name"), [
    (CHARACTER, "Mia Rossi"), (CHARACTER, "2nd-mate"), (CHARACTER, "old.man!"),
    (CHARACTER, " -x- "), (VOICE, "mia voice"), (VOICE, "-narrator"), (LOOK, "Storm Coat"),
    (LOOK, "9-lives"),
])
def test_every_suggestion_is_a_name_the_pattern_takes(pattern: str, name: str) -> None:
    found = rule(pattern)
    assert found is not None
    near = found.nearest(name)
    assert near is not None and re.fullmatch(pattern, near), near


def test_a_name_with_nothing_legal_in_it_gets_no_suggestion() -> None:
    found = rule(CHARACTER)
    assert found is not None and found.nearest("玛丽") is None and found.nearest("!!") is None
    assert rule("^(wan2\\.7-r2v|sora-2)$") is None  # another form: its regular expression
