"""A character's looks (issue 67 item 2): a sheet per look, worn over an episode range, by a shot's
``look:`` or by ``@name.look`` in its words; the compiled reference changes at the range's
boundary, ``compile`` says which look each shot wears, ``check`` refuses at the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import storyboard
from storyboard.cli import cli
from storyboard.errors import ProblemsFound
from storyboard.language.cache import incremental
from storyboard.language.compile import compile_path
from storyboard.language.request import Manifest

HEAD = """\
storyboard: 1
title: Looks
defaults: {resolution: 720P, ratio: "9:16", duration: 3}
characters:
  ada:
    image: {generate: "a young woman, dark hair"}
    looks:
      wedding: {image: {generate: "the same woman in a white wedding dress"}, episodes: "2-3"}
      scar: {image: media/scar.png}
  bo: {image: {generate: "an old fisherman"}}
episodes:
"""


def episode(number: int, *shots: str) -> str:
    body = "".join(f"      - {s}\n" for s in shots) or '      - {id: a, prompt: "@ada waves at @bo"}\n'
    return f"  - id: ep{number:02d}\n    shots:\n{body}"


def write(root: Path, make_media: Any, *episodes: str, head: str = HEAD) -> Path:
    make_media("image", root / "media" / "scar.png", width=320, height=320)
    text = head + "".join(episodes or [episode(n) for n in (1, 2, 3, 4)])
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


def references(manifest: Manifest) -> dict[str, str]:
    """Each shot's first reference (ada's picture): its asset id or file name."""
    found = {}
    for shot in manifest.episode_shots():
        ref = shot.request.media[0].ref
        assert ref is not None
        found[shot.shot_id] = ref.asset or (ref.path.name if ref.path else str(ref.url))
    return found


def test_the_reference_changes_at_the_ranges_boundary(tmp_path: Path, make_media: Any) -> None:
    manifest = compile_path(write(tmp_path / "s", make_media))
    assert references(manifest) == {"ep01/a": "cast/ada", "ep02/a": "cast/ada.wedding",
                                    "ep03/a": "cast/ada.wedding", "ep04/a": "cast/ada"}
    looks = {s.shot_id: s.looks for s in manifest.episode_shots()}
    assert looks == {"ep01/a": {}, "ep02/a": {"ada": "wedding"}, "ep03/a": {"ada": "wedding"},
                     "ep04/a": {}}
    bo = {s.request.media[1].ref.asset for s in manifest.episode_shots()}  # type: ignore[union-attr]
    assert bo == {"cast/bo"}  # bo has no looks: the same sheet everywhere
    hashes = {s.shot_id: s.hash for s in manifest.episode_shots()}
    assert hashes["ep02/a"] == hashes["ep03/a"] != hashes["ep01/a"] == hashes["ep04/a"]


def test_a_shot_asks_for_a_look_by_look_or_by_its_words(tmp_path: Path,
                                                         make_media: Any) -> None:
    series = write(tmp_path / "s", make_media, episode(
        1, '{id: asked, look: scar, prompt: "@ada waves at @bo"}',
        '{id: worded, prompt: "@ada.wedding waves at @bo"}',
        '{id: mapped, look: {ada: scar}, prompt: "@bo nods at @ada"}'),
        episode(2, '{id: own, prompt: "@ada.base waves at @bo"}',
                '{id: ranged, prompt: "@ada waves at @bo"}'))
    manifest = compile_path(series)
    found = {s.shot_id: (s.looks, s.request.prompt) for s in manifest.episode_shots()}
    assert found["ep01/asked"] == ({"ada": "scar"}, "Image 1 waves at Image 2")
    assert found["ep01/worded"] == ({"ada": "wedding"}, "Image 1 waves at Image 2")
    assert found["ep01/mapped"][0] == {"ada": "scar"}
    assert found["ep02/own"] == ({}, "Image 1 waves at Image 2")  # base, inside the range
    assert found["ep02/ranged"][0] == {"ada": "wedding"}
    media = {s.shot_id: s.request.media for s in manifest.episode_shots()}
    scar = media["ep01/asked"][0].ref
    assert scar is not None and scar.path == series / "media" / "scar.png"
    assert media["ep01/mapped"][1].ref == scar  # ada second here: bo is mentioned first


def test_compile_shows_the_look_each_shot_wears(tmp_path: Path, make_media: Any) -> None:
    series = write(tmp_path / "s", make_media)
    done = CliRunner().invoke(cli, ["compile", str(series)])
    assert done.exit_code == 0, done.output
    shots = {f"{e['id']}/{s['id']}": s for e in json.loads(done.stdout)["episodes"]
             for s in e["shots"]}
    assert "looks" not in shots["ep01/a"]
    assert shots["ep02/a"]["looks"] == {"ada": "wedding"}
    assert shots["ep02/a"]["needs"].keys() == {"cast/ada.wedding", "cast/bo"}
    prompt = CliRunner().invoke(cli, ["compile", str(series), "--shot", "ep03/a", "--format",
                                      "prompt"])
    assert prompt.exit_code == 0, prompt.output
    assert prompt.stdout == (
        "prompt: Image 1 waves at Image 2\n"
        "media:  [{type: reference_image, url: {asset: cast/ada.wedding}},\n"
        "         {type: reference_image, url: {asset: cast/bo}}]\n"
        "looks:  ada: wedding\n")


def test_a_look_made_from_words_is_a_cast_asset_of_its_own(tmp_path: Path,
                                                           make_media: Any) -> None:
    manifest = compile_path(write(tmp_path / "s", make_media))
    sheets = {f"{a.episode}/{a.id}": a for a in manifest.cast}
    assert list(sheets) == ["cast/ada", "cast/ada.wedding", "cast/bo"]  # a file look: no asset
    wedding = sheets["cast/ada.wedding"].asset
    assert wedding is not None and wedding.kind == "image"
    assert wedding.prompt.startswith("Character design sheet of Ada (wedding): the same woman "
                                     "in a white wedding dress.")
    assert sheets["cast/ada.wedding"].hash != sheets["cast/ada"].hash


def test_a_board_wears_the_look_as_its_reference(tmp_path: Path, make_media: Any) -> None:
    head = HEAD.replace("episodes:\n", "boards: {model: wan2.7-image}\nepisodes:\n")
    manifest = compile_path(write(tmp_path / "s", make_media, head=head))
    boards = {a.id: a for a in manifest.cast if a.episode == "boards"}
    refs = {name: [r.asset for r in b.asset.refs] for name, b in boards.items() if b.asset}
    assert refs == {"ep01/a": ["cast/ada", "cast/bo"], "ep02/a": ["cast/ada.wedding", "cast/bo"],
                    "ep03/a": ["cast/ada.wedding", "cast/bo"], "ep04/a": ["cast/ada", "cast/bo"]}
    assert boards["ep02/a"].needs.keys() == {"cast/ada.wedding", "cast/bo"}


def test_a_look_no_shot_wears_is_a_warning_at_its_line(tmp_path: Path, make_media: Any) -> None:
    series = write(tmp_path / "s", make_media, episode(1))
    found = [d for d in storyboard.check(series) if d.code == "look-unworn"]
    assert [(d.span.line, d.span.col) for d in found if d.span] == [(8, 7), (9, 7)]
    assert found[0].message.startswith("look 'wedding' of 'ada' is worn by no shot")


def _refused(series: Path) -> list[str]:
    with pytest.raises(ProblemsFound) as raised:
        compile_path(series)
    return [f"{d.span.line}:{d.span.col}: {d.message}" for d in raised.value.diagnostics
            if d.severity == "error" and d.span]


@pytest.mark.parametrize(("old", "new", "said"), [
    ('episodes: "2-3"}', 'episodes: "2-3"}\n      veil: {image: media/scar.png, episodes: "3-5"}',
     "9:47: look 'veil' of 'ada' holds over episodes 3-5, which overlaps look 'wedding' (2-3) "
     "at episode 3; expected ranges that do not overlap"),
    ('episodes: "2-3"', 'episodes: "3-2"',
     "8:89: look 'wedding' of 'ada': episodes '3-2': '3-2' is not a range; expected episode "
     'numbers such as "3", "12-20", "1-2,5" or "3-"'),
    ('bo: {image: {generate: "an old fisherman"}}',
     'bo: {video: media/bo.mp4, looks: {young: {image: media/scar.png}}}',
     "10:29: character 'bo' has looks, but its reference is a video: a look is a picture"),
], ids=["overlap", "bad range", "video"])
def test_a_bad_declaration_is_refused_at_its_line(tmp_path: Path, make_media: Any, old: str,
                                                  new: str, said: str) -> None:
    make_media("video", tmp_path / "s" / "media" / "bo.mp4", width=320, height=240, seconds=2.0)
    series = write(tmp_path / "s", make_media, head=HEAD.replace(old, new))
    found = _refused(series)
    assert any(line.startswith(said) for line in found), found


@pytest.mark.parametrize(("shot", "said"), [
    ('{id: a, look: veil, prompt: "@ada waves at @bo"}',
     "14:23: no character of this shot has a look 'veil'; expected a look of @ada, @bo "
     "(declared: scar, wedding)"),
    ('{id: a, prompt: "@ada.weding waves at @bo"}',
     "14:31: unknown look 'weding' of @ada (did you mean 'wedding'?); expected one of ada's "
     "looks: scar, wedding, or base"),
    ('{id: a, look: {bo: scar}, prompt: "@bo waves at @ada"}',
     "14:28: unknown look 'scar' of @bo; expected one of bo's looks: (none declared), or base"),
    ('{id: a, look: {cy: scar}, prompt: "@bo waves at @ada"}',
     "14:24: a look for 'cy', who is not in this shot; expected one of: bo, ada"),
], ids=["look", "words", "other's", "not in shot"])
def test_an_unknown_look_is_refused_at_its_line(tmp_path: Path, make_media: Any, shot: str,
                                                said: str) -> None:
    found = _refused(write(tmp_path / "s", make_media, episode(1, shot)))
    assert any(line.startswith(said) for line in found), found


def test_a_look_in_a_series_without_looks_is_refused_at_its_line(tmp_path: Path,
                                                                 make_media: Any) -> None:
    head = HEAD.replace(HEAD[HEAD.index("    looks:"):HEAD.index("  bo:")], "")
    found = _refused(write(tmp_path / "s", make_media,
                           episode(1, '{id: a, look: wedding, prompt: "@ada waves at @bo"}'),
                           head=head))
    assert found == ["11:23: no character of this shot has a look 'wedding'; expected a look of "
                     "@ada, @bo (declared: none)"]


def test_an_episode_moved_in_the_list_wears_its_new_places_look(tmp_path: Path,
                                                                make_media: Any) -> None:
    """The episode's place decides its look: a process that kept it re-resolves it when the
    list moves it (the episodes themselves unchanged)."""
    root = tmp_path / "s"
    (root / "episodes").mkdir(parents=True)
    for name in ("a", "b", "c"):
        (root / "episodes" / f"{name}.yaml").write_text(
            f'id: {name}\nshots:\n  - {{id: x, prompt: "@ada waves at @bo"}}\n', "utf-8")
    head = HEAD + "  - episodes/a.yaml\n  - episodes/b.yaml\n  - episodes/c.yaml\n"
    series = write(root, make_media, "", head=head)
    incremental.forget()
    first = storyboard.compile(series)
    assert references(first) == {"a/x": "cast/ada", "b/x": "cast/ada.wedding",
                                 "c/x": "cast/ada.wedding"}
    text = (series / "storyboard.yaml").read_text("utf-8")
    (series / "storyboard.yaml").write_text(text.replace(
        "  - episodes/a.yaml\n  - episodes/b.yaml\n", "  - episodes/b.yaml\n  - episodes/a.yaml\n"),
        "utf-8")
    moved = storyboard.compile(series)
    assert references(moved) == {"b/x": "cast/ada", "a/x": "cast/ada.wedding",
                                 "c/x": "cast/ada.wedding"}


def test_each_shot_and_board_declares_its_people_in_the_look_they_wear(
        tmp_path: Path, make_media: Any) -> None:
    """What a take's people are measured against (issue 96): each character the shot declares
    with the picture of the look it wears in that episode, the board's as its video's (a first
    frame that replaced the references still declares them)."""
    head = HEAD.replace("episodes:\n", "boards: {model: wan2.7-image}\nepisodes:\n")
    manifest = compile_path(write(tmp_path / "s", make_media, head=head))
    people = {s.shot_id: {n: r.asset for n, r in s.people.items()} for s in manifest.episode_shots()}
    assert people == {"ep01/a": {"ada": "cast/ada", "bo": "cast/bo"},
                      "ep02/a": {"ada": "cast/ada.wedding", "bo": "cast/bo"},
                      "ep03/a": {"ada": "cast/ada.wedding", "bo": "cast/bo"},
                      "ep04/a": {"ada": "cast/ada", "bo": "cast/bo"}}
    boards = {a.id: {n: r.asset for n, r in a.people.items()} for a in manifest.cast
              if a.episode == "boards"}
    assert boards == people  # each board as ``ep01/a``, wearing what its video wears


@pytest.mark.parametrize(("written", "past"), [("2-5", "2-5"), ("1,4", "4"), ("5-", "5-")])
def test_a_range_past_the_series_last_episode_is_warned_at_its_line(
        tmp_path: Path, make_media: Any, written: str, past: str) -> None:
    head = HEAD.replace('episodes: "2-3"', f'episodes: "{written}"')
    root = write(tmp_path / "s", make_media, *(episode(n, '{id: a, prompt: "@ada.scar waves"}')
                                               for n in (1, 2, 3)), head=head)
    done = CliRunner().invoke(cli, ["check", str(root), "--json"])
    assert done.exit_code == 0, done.output
    found = [d for d in json.loads(done.output) if d["code"] == "look-past-end"]
    line = head.split("\n").index(next(r for r in head.split("\n") if "wedding:" in r)) + 1
    assert [(d["line"], d["severity"]) for d in found] == [(line, "warning")]
    assert (f"look 'wedding' of 'ada' holds over episodes {written}, but '{past}' reaches past "
            "the series' last episode (it has 3): expected a range within 1-3") in found[0]["message"]


def test_a_range_within_the_series_is_not_warned(tmp_path: Path, make_media: Any) -> None:
    done = CliRunner().invoke(cli, ["check", str(write(tmp_path / "s", make_media)), "--json"])
    assert done.exit_code == 0 and "look-past-end" not in done.output, done.output
