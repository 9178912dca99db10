"""What a new user mistyped, said as a located error, never a traceback or a silent success
(issue 45.5): an image kind the recipes do not know, a shot that does not exist, a generated cast
in the prompt form, a designed voice without its sample, a misspelt top-level section."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.cli import invoke as run

SERIES = """\
storyboard: 1
title: New
defaults: {{resolution: 720P, ratio: "16:9", duration: 2}}
voices:
  ada-voice: {voice}
{characters}:
  ada:
    image: {{generate: "a young engineer with brass goggles"{kind}}}
    voice: ada-voice
episodes:
  - id: ep01
    shots:
      - {{id: a, prompt: "@ada waves"}}
      - id: b
        scenes:
          - {{at: 0-2s, action: "@ada turns", say: {{ada: "Morning!"}}}}
"""
VOICE = '{design: "a warm, calm woman", sample: "Morning! The usual?"}'


def write(root: Path, *, kind: str = "", voice: str = VOICE,
          characters: str = "characters") -> Path:
    root.mkdir(parents=True)
    text = SERIES.format(kind=kind, voice=voice, characters=characters)
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("kind", ["location", "Place", "42", "[place]"])
def test_an_unknown_image_kind_is_a_located_error_naming_the_kinds(tmp_path: Path,
                                                                  kind: str) -> None:
    series = write(tmp_path / "s", kind=f", kind: {kind}")
    for command in ("check", "render"):
        result = run(command, series, *(["--yes"] if command == "render" else []))
        assert result.exit_code == 1, result.output
        assert "storyboard.yaml:8:68: error: expected one of character, place, prop" \
            in result.stderr, result.stderr


def test_compile_of_a_shot_or_episode_that_does_not_exist_fails(tmp_path: Path) -> None:
    series = write(tmp_path / "s")
    result = run("compile", series, "--shot", "nonexistent")
    assert result.exit_code == 1 and result.stdout == ""
    assert "--shot 'nonexistent' names no shot or cast asset of this series" in result.stderr
    result = run("compile", series, "--shot", "ep01/aa", "--format", "prompt")
    assert result.exit_code == 1 and "(did you mean 'ep01/a'?)" in result.stderr
    result = run("compile", series, "--shot", "ep01/zzz")  # nothing near: its episode's shots
    assert result.exit_code == 1 and "(ep01's shots: a" in result.stderr, result.stderr
    result = run("compile", series, "--episode", "ep02")
    assert result.exit_code == 1 and "--episode 'ep02' names no episode" in result.stderr
    assert run("compile", series, "--shot", "ep01/a").exit_code == 0


def test_the_prompt_form_names_a_generated_cast_and_shows_its_request(tmp_path: Path) -> None:
    series = write(tmp_path / "s")
    shot = run("compile", series, "--format", "prompt", "--shot", "a")
    assert shot.exit_code == 0, shot.output
    assert "url: {asset: cast/ada}" in shot.stdout and "None" not in shot.stdout
    asset = run("compile", series, "--format", "prompt", "--shot", "cast/ada")
    assert asset.exit_code == 0, asset.output
    assert asset.stdout.startswith("prompt: Character design sheet of Ada: a young engineer")
    assert "model:  wan2.7-image" in asset.stdout
    voice = run("compile", series, "--format", "prompt", "--shot", "voices/ada-voice")
    assert "prompt: a warm, calm woman" in voice.stdout
    assert "sample: Morning! The usual?" in voice.stdout
    json_form = run("compile", series, "--shot", "cast/ada")
    assert '"id": "cast/ada"' in json_form.stdout and '"shots"' not in json_form.stdout


def test_a_designed_voice_without_a_sample_says_the_key_is_missing(tmp_path: Path) -> None:
    series = write(tmp_path / "s", voice='{design: "a warm, calm woman"}')
    result = run("check", series)
    assert result.exit_code == 1
    assert "storyboard.yaml:5:14: error: missing required key 'sample' beside 'design'" \
        in result.stderr, result.stderr
    assert "a mapping or a mapping" not in result.stderr
    other = write(tmp_path / "t", voice="{speak: 1}")
    result = run("check", other)
    assert "expected a mapping with 'audio' or a mapping with 'design' and 'sample'" \
        in result.stderr, result.stderr


def test_a_misspelt_section_is_reported_without_the_errors_it_caused(tmp_path: Path) -> None:
    series = write(tmp_path / "s", characters="charcters")
    result = run("check", series)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    assert "storyboard.yaml:6:1: error: unknown key 'charcters' (did you mean 'characters'?)" \
        in errors[0]
    assert "the 5 error(s) it caused" in errors[0]
    assert "unknown character" not in result.stderr and "no reference" not in result.stderr
    assert "1 error(s) found" in result.stderr
