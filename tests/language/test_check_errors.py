"""Bad input: each gives a located error that says what was expected, exit 1, no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import storyboard
from storyboard.cli import cli
from tests.fixtures.check_cases import CASES, SIX, MakeMedia, one_shot
from tests.fixtures.compiler import SERIES_HEAD, write_series


@pytest.mark.parametrize(("name", "episodes", "where", "fragment"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input_is_located(tmp_path: Path, make_media: MakeMedia, name: str, episodes: str,
                              where: str, fragment: str) -> None:
    head = SERIES_HEAD + SIX + "\n" if name == "six references" else SERIES_HEAD
    series = write_series(tmp_path / "s", make_media, episodes, head=head)
    problems = storyboard.check(series)
    rendered = [d.format() for d in problems]
    assert any(fragment in text for text in rendered), rendered
    match = next(d for d in problems if fragment in d.message)
    assert match.span is not None
    assert f"{match.span.line}:{match.span.col}" == where, rendered
    assert match.span.file.endswith("storyboard.yaml")


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "storyboard.yaml"
    file.write_text(text, encoding="utf-8")
    return file


@pytest.mark.parametrize(("text", "where", "fragment"), [
    ("storyboard: 1\ntitle: [unclosed\n", "3:1", "invalid YAML"),
    ("storyboard: 1\ntitle: a\ntitle: b\n", "3:1", "duplicate key 'title' (first defined at line 2)"),
    ("storyboard: 1\ntitle: !!python/object/apply:os.system ['ls']\n", "2:8",
     "unsupported YAML tag"),
    ("storyboard: 2\n", "1:13", "expected 1, got 2"),
    ("title: no version\n", "1:1", "missing required key 'storyboard'"),
    ("storyboard: 1\ncharacters:\n  x: {image: a.png, video: b.mp4}\n", "3:6",
     "exactly one of 'image' or 'video'"),
    # (21:9 is a ratio since HappyHorse; 3:2 is no model's)
    ("storyboard: 1\ndefaults: {ratio: 3:2}\n", "2:19", "expected one of 16:9, 9:16"),
    # nearest in shape, not in spelling (difflib would say '1:1')
    ("storyboard: 1\ndefaults: {ratio: '16:10'}\n", "2:19", "(did you mean '16:9'?)"),
    ("storyboard: 1\ndefaults: {ratio: '2:3'}\n", "2:19", "(did you mean '3:4'?)"),
    ("storyboard: 1\ncharacters:\n\tmia: {image: a.png}\n", "3:1", "a tab character"),
    ("storyboard: 1\ntitle: a\n  \tsub: b\n", "3:3", "a tab character"),
])
def test_bad_documents(tmp_path: Path, text: str, where: str, fragment: str) -> None:
    problems = storyboard.check(write(tmp_path, text))
    match = [d for d in problems if fragment in d.message]
    assert match, [d.format() for d in problems]
    assert match[0].span is not None
    assert f"{match[0].span.line}:{match[0].span.col}" == where


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    problems = storyboard.check(write(tmp_path, "storyboard: 1\nvars:\n  " +
                                      "\n  ".join(lines) + "\n"))
    assert any("alias bomb" in d.message for d in problems)


def test_media_content_and_limits(tmp_path: Path, make_media: MakeMedia) -> None:
    root = tmp_path / "s"
    png = make_media("image", root / "media" / "fake.png", width=320, height=320)
    png.rename(root / "media" / "fake.mp4")
    make_media("image", root / "media" / "tiny.png", width=100, height=100)
    head = SERIES_HEAD + "  fake: {video: media/fake.mp4}\n  tiny: {image: media/tiny.png}\n"
    series = write_series(root, make_media, one_shot('prompt: "@fake @tiny"'), head=head)
    messages = [d.message for d in storyboard.check(series)]
    assert any("expected a video (MP4, MOV), but the content is a PNG" in m for m in messages)
    assert any("100x100 pixels; expected each side between 240 and 8000" in m for m in messages)


def test_every_problem_at_once(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          shots:
            - {id: a, prompt: "@mai", durration: 3}
            - {id: b, prompt: "nobody", seed: -5}
            - {id: c, prompt: "@mia", duration: 30}
        """)
    problems = storyboard.check(series)
    assert len([d for d in problems if d.severity == "error"]) >= 4
    lines = [d.span.line for d in problems if d.span]
    assert lines == sorted(lines)


def test_cli_exit_codes_and_no_traceback(tmp_path: Path, make_media: MakeMedia) -> None:
    runner = CliRunner()
    good = write_series(tmp_path / "good", make_media, one_shot('prompt: "@mia"'))
    result = runner.invoke(cli, ["check", str(good)])
    assert result.exit_code == 0 and "ok: 1 episode(s), 1 shot(s)" in result.output
    bad = write_series(tmp_path / "bad", make_media, one_shot('prompt: "@mai"'))
    result = runner.invoke(cli, ["check", str(bad)])
    assert result.exit_code == 1
    assert re.search(r"storyboard\.yaml:14:\d+: error: unknown character @mai", result.output)
    assert "Traceback" not in result.output
    assert runner.invoke(cli, ["check", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(cli, ["check"]).exit_code == 2


def test_cli_runs_as_a_program(tmp_path: Path) -> None:
    bad = write(tmp_path, "storyboard: 1\ntitle: [oops\n")
    proc = subprocess.run([sys.executable, "-m", "storyboard", "check", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "invalid YAML" in proc.stderr and "Traceback" not in proc.stderr


def test_unused_cast_is_a_warning_not_an_error(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, one_shot('prompt: "@sam"'))
    problems = storyboard.check(series)
    assert {d.severity for d in problems} == {"warning"}
    messages = [d.message for d in problems]
    assert any("character 'mia' is never used" in m for m in messages)
    assert any("voice 'mia-voice' is never used" in m for m in messages)
    result = CliRunner().invoke(cli, ["check", str(series)])
    assert result.exit_code == 0
    assert re.search(r"storyboard\.yaml:7:3: warning: character 'mia' is never used", result.output)
    storyboard.compile(series)  # warnings never stop a compile


def test_the_first_shots_transition(tmp_path: Path, make_media: MakeMedia) -> None:
    lonely = write_series(tmp_path / "a", make_media, one_shot(
        'prompt: "@mia @sam @guitar"\ntransition: crossfade'))
    warned = [d for d in storyboard.check(lonely) if "nothing before it" in d.message]
    assert warned and warned[0].severity == "warning"
    carded = write_series(tmp_path / "b", make_media, (
        "- id: e\n  title_card: {text: Hi, duration: 1}\n  shots:\n"
        "    - id: s\n      prompt: '@mia @sam @guitar'\n"
        "      transition: {type: fade, duration: 1.5}\n"))
    errors = [d for d in storyboard.check(carded) if "as long as the title card" in d.message]
    assert errors and errors[0].severity == "error"


def test_a_tab_in_an_episode_file_says_tab(tmp_path: Path) -> None:
    write(tmp_path, "storyboard: 1\nepisodes: [episodes/*.yaml]\n")
    (tmp_path / "episodes").mkdir()
    (tmp_path / "episodes" / "ep01.yaml").write_text("id: ep01\nshots:\n\t- prompt: hi\n",
                                                    encoding="utf-8")
    problems = storyboard.check(tmp_path)
    tabs = [d for d in problems if "a tab character" in d.message]
    assert tabs and tabs[0].span is not None and tabs[0].span.file.endswith("ep01.yaml")
    assert (tabs[0].span.line, tabs[0].span.col) == (3, 1)


def test_a_default_that_breaks_a_limit_is_reported_at_the_defaults_line(tmp_path: Path) -> None:
    """``defaults: {duration: 1}``: one error at that line (not one at each shot that inherits
    it); a shot whose scenes set its length is reported at the shot."""
    (tmp_path / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: D\ndefaults: {duration: 1}\n"
        "characters:\n  mia: {image: {generate: 'a barista'}}\n"
        "episodes:\n  - id: ep01\n    shots:\n"
        "      - {id: a, prompt: '@mia waves'}\n      - {id: b, prompt: '@mia smiles'}\n"
        "      - {id: c, scenes: [{at: 0-20s, action: '@mia sings'}]}\n", encoding="utf-8")
    found = [(d.span.line if d.span else 0, d.message) for d in storyboard.check(tmp_path)
             if d.severity == "error"]
    assert (3, "a 1 s shot; expected 2 to 15 s") in found
    assert not any(line in (9, 10) for line, _ in found)  # not at a and b
    assert any(line == 11 and "a 20 s shot" in message for line, message in found)


@pytest.mark.parametrize(("text", "where"), [
    ('storyboard: 1\ndefaults: {resolution: 720P, seeed: 1234}\nepisodes:\n  - id: e\n'
     '    shots:\n      - {id: s, prompt: "a room", duration: 2}\n', "2:30"),
    ('storyboard: 1\nepisodes:\n  - id: e\n    defaults:\n      seeed: 1234\n'
     '    shots:\n      - {id: s, prompt: "a room", duration: 2}\n', "5:7"),
])
def test_an_unknown_key_under_defaults_is_located_not_a_key_error(
        tmp_path: Path, text: str, where: str) -> None:
    """A shot inherits every default: an unknown one (``seeed``) is the schema's located "did
    you mean", never a ``KeyError`` from the shot that would have inherited it."""
    file = write(tmp_path, text)
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{file}:{where}: error: unknown key 'seeed' (did you mean 'seed'?)" in result.output
    assert "Traceback" not in result.output and "KeyError" not in result.output
