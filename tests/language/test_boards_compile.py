"""Boards in the language (issue 56 items 1, 3, 4): the ``boards:`` block and a shot's ``board:``
compiled into a board asset per shot (``boards/EP/SHOT``) and its hand-off to the video request."""

from __future__ import annotations

import json
import marshal
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language import storedform
from storyboard.language.compile import compile_path
from storyboard.language.picks import as_picked
from storyboard.language.request import BOARDS, CompiledShot, Manifest, MediaRef, is_board
from storyboard.language.resolving.cast import rehashed

HEAD = """\
storyboard: 1
title: Boards
style: soft pencil
defaults: {resolution: 720P, duration: 5}
characters:
  mia: {image: media/mia.png}
  sam: {image: {generate: "a tall man in a grey coat", takes: 2}}
  cafe: {image: {generate: "a small corner cafe", kind: place}}
"""

SHOTS = """\
boards: {model: wan2.7-image, takes: 2}
episodes:
  - id: ep1
    shots:
      - id: hook
        scenes: ["[0-5s] Close-up: @mia hands @sam a cup in the @cafe"]
      - id: own
        board: media/still.png
        scenes: ["[0-5s] @mia smiles"]
      - id: bare
        board: false
        scenes: ["[0-5s] @sam leaves"]
      - id: words
        board: {prompt: "@sam alone at the window"}
        scenes: ["[0-5s] @sam waits"]
"""


def series(root: Path, make_media: Callable[..., Path], body: str, head: str = HEAD) -> Path:
    make_media("image", root / "media" / "mia.png", width=320, height=320)
    make_media("image", root / "media" / "still.png", width=640, height=360, color="green")
    (root / "storyboard.yaml").write_text(head + textwrap.dedent(body), encoding="utf-8")
    return root


def errors(found: ProblemsFound) -> list[Diagnostic]:
    return [d for d in found.diagnostics if d.severity == "error"]


def boards_of(manifest: Manifest) -> dict[str, CompiledShot]:
    return {f"{s.episode}/{s.id}": s for s in manifest.cast if s.episode == BOARDS}


def shot(manifest: Manifest, name: str) -> CompiledShot:
    return next(s for s in manifest.episode_shots() if s.id == name)


def test_a_board_per_shot_is_an_image_asset_with_the_cast_as_references(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    manifest = compile_path(series(tmp_path, make_media, SHOTS))
    boards = boards_of(manifest)
    assert sorted(boards) == ["boards/ep1/hook", "boards/ep1/words"]  # own still, none: unpaid
    hook = boards["boards/ep1/hook"]
    assert hook.id == "ep1/hook" and hook.shot_id == "boards/ep1/hook"
    assert hook.asset is not None and hook.asset.kind == "image"
    assert (hook.asset.subject, hook.asset.model, hook.asset.size) == \
        ("board", "wan2.7-image", "1920*1080")
    assert hook.asset.refs == (MediaRef(path=tmp_path / "media" / "mia.png"),
                               MediaRef(asset="cast/sam"), MediaRef(asset="cast/cafe"))
    assert hook.asset.prompt == (
        "Storyboard frame: Close-up: image 1 hands image 2 a cup in the image 3. "
        "Camera: close-up. In frame: Mia (image 1), Sam (image 2), Cafe (image 3). "
        "Style: soft pencil. One single frame: no panels, no split screen, no text, "
        "no watermark.")
    hashes = {f"{s.episode}/{s.id}": s.hash for s in manifest.cast}
    assert hook.needs == {"cast/sam": hashes["cast/sam"], "cast/cafe": hashes["cast/cafe"]}
    assert [t.take for t in hook.all_takes()] == [1, 2] and hook.hash.endswith(".png")
    assert hook.gate
    words = boards["boards/ep1/words"]
    assert words.asset is not None and words.asset.prompt.startswith(
        "Storyboard frame: image 1 alone at the window.")


def test_the_video_starts_from_its_board(tmp_path: Path,
                                         make_media: Callable[..., Path]) -> None:
    manifest = compile_path(series(tmp_path, make_media, SHOTS))
    board = boards_of(manifest)["boards/ep1/hook"]
    hook = shot(manifest, "hook")
    assert hook.needs["boards/ep1/hook"] == board.hash
    assert hook.board == MediaRef(asset="boards/ep1/hook")
    roles = [(m.role, str(m.ref)) for m in hook.request.media]
    assert roles[-1] == ("first_frame", "boards/ep1/hook")
    assert [r for r, _ in roles[:3]] == ["reference_image"] * 3  # beside its references
    own = shot(manifest, "own")  # its own still: the first frame, no asset, never paid
    still = tmp_path / "media" / "still.png"
    assert own.board == MediaRef(path=still) and own.request.first_frame is not None
    assert own.request.first_frame.ref == MediaRef(path=still)
    assert not any(is_board(a) for a in own.needs) and str(still) in own.inputs
    bare = shot(manifest, "bare")
    assert bare.board is None and bare.request.first_frame is None


def test_without_boards_nothing_changes(tmp_path: Path, make_media: Callable[..., Path]) -> None:
    plain = SHOTS.replace("boards: {model: wan2.7-image, takes: 2}\n", "").replace(
        "        board: media/still.png\n", "").replace("        board: false\n", "").replace(
        '        board: {prompt: "@sam alone at the window"}\n', "")
    manifest = compile_path(series(tmp_path, make_media, plain))
    assert not boards_of(manifest)
    assert all(s.board is None and s.request.first_frame is None
               for s in manifest.episode_shots())


def test_a_cast_pick_replans_exactly_the_boards_that_use_it(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, SHOTS)
    manifest = compile_path(root)
    picked = as_picked(manifest, {f"{root.name}/cast/sam": {"picked": 2}})
    before, after = boards_of(manifest), boards_of(picked)
    assert before["boards/ep1/hook"].hash != after["boards/ep1/hook"].hash
    assert before["boards/ep1/words"].hash != after["boards/ep1/words"].hash
    assert shot(picked, "hook").needs["boards/ep1/hook"] == after["boards/ep1/hook"].hash
    assert shot(manifest, "hook").hash != shot(picked, "hook").hash
    assert shot(manifest, "own").hash == shot(picked, "own").hash  # uses no generated sheet


def test_a_board_pick_replans_its_video(tmp_path: Path,
                                        make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, SHOTS)
    manifest = compile_path(root)
    key = f"{root.name}/boards/ep1/hook"
    picked = as_picked(manifest, {key: {"picked": 2}})
    second = boards_of(manifest)["boards/ep1/hook"].others[0]
    assert shot(picked, "hook").needs["boards/ep1/hook"] == second.hash
    assert shot(picked, "hook").hash != shot(manifest, "hook").hash
    assert shot(picked, "words").hash == shot(manifest, "words").hash


def test_is_board() -> None:
    assert is_board("boards/ep1/hook") and not is_board("cast/mia")
    assert not is_board("ep1/boards")


def test_a_missing_own_still_is_a_located_error(tmp_path: Path,
                                                make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, SHOTS.replace("media/still.png", "media/gone.png"))
    with pytest.raises(ProblemsFound) as found:
        compile_path(root)
    [problem] = errors(found.value)
    assert "gone.png" in problem.message and problem.span is not None
    assert problem.source_line.strip() == "board: media/gone.png" and problem.span.line == 16


def test_first_frame_generate_is_a_board_in_other_words(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = """\
    episodes:
      - id: ep1
        shots:
          - id: hook
            first_frame: {generate: "@mia at the door, wide shot"}
            scenes: ["[0-5s] @mia knocks"]
          - id: plain
            scenes: ["[0-5s] @mia waits"]
    """
    manifest = compile_path(series(tmp_path, make_media, body))
    [board] = boards_of(manifest).values()  # no boards: block: only the shot that asks has one
    assert board.id == "ep1/hook" and board.asset is not None
    assert board.asset.prompt.startswith("Storyboard frame: image 1 at the door, wide shot. "
                                         "Camera: wide shot.")
    assert shot(manifest, "hook").board == MediaRef(asset="boards/ep1/hook")
    assert shot(manifest, "plain").board is None


def test_first_frame_generate_beside_board_is_refused(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = """\
    episodes:
      - id: ep1
        shots:
          - id: hook
            board: {prompt: "@mia at the door"}
            first_frame: {generate: "@mia at the door"}
            scenes: ["[0-5s] @mia knocks"]
    """
    with pytest.raises(ProblemsFound) as found:
        compile_path(series(tmp_path, make_media, body))
    [problem] = errors(found.value)
    assert "first_frame: {generate: ...} is this shot's board in other words" in problem.message
    assert problem.source_line.strip().startswith("first_frame:")


def test_a_board_beside_a_first_frame_of_its_own_is_refused(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = """\
    episodes:
      - id: ep1
        shots:
          - id: hook
            scenes: ["[0-5s] @mia knocks"]
          - id: next
            board: {prompt: "@mia at the door"}
            first_frame: {from: hook}
            scenes: ["[0-5s] @mia waits"]
    """
    with pytest.raises(ProblemsFound) as found:
        compile_path(series(tmp_path, make_media, "boards: {}\n" + textwrap.dedent(body)))
    [problem] = errors(found.value)
    assert "starts from a frame or clip of its own" in problem.message
    assert problem.source_line.strip().startswith("board:")


def test_a_shot_with_its_own_first_frame_keeps_it_under_boards(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = """\
    boards: {}
    episodes:
      - id: ep1
        shots:
          - id: hook
            scenes: ["[0-5s] @mia knocks"]
          - id: next
            first_frame: {from: hook}
            scenes: ["[0-5s] @mia waits"]
    """
    manifest = compile_path(series(tmp_path, make_media, body))
    assert sorted(boards_of(manifest)) == ["boards/ep1/hook"]
    assert shot(manifest, "next").board is None
    assert shot(manifest, "next").depends_on == "hook"


def test_compile_shows_a_board_and_each_shots_board(tmp_path: Path,
                                                    make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, SHOTS)
    shown = CliRunner().invoke(cli, ["compile", str(root), "--shot", "boards/ep1/hook"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert [a["id"] for a in data["cast"]] == ["boards/ep1/hook", "boards/ep1/hook#2"]
    assert data["cast"][0]["refs"] == ["media/mia.png", "{asset: cast/sam}", "{asset: cast/cafe}"]
    assert data["episodes"] == []
    prompt = CliRunner().invoke(cli, ["compile", str(root), "--shot", "boards/ep1/hook",
                                      "--format", "prompt"])
    assert prompt.exit_code == 0 and "Storyboard frame: Close-up" in prompt.stdout
    whole = json.loads(CliRunner().invoke(cli, ["compile", str(root)]).stdout)
    boards = {s["id"]: s.get("board") for s in whole["episodes"][0]["shots"]}
    assert boards == {"hook": "{asset: boards/ep1/hook}", "own": "media/still.png",
                      "bare": None, "words": "{asset: boards/ep1/words}"}
    assert "gate" not in whole["cast"][-1]
    (root / "storyboard.yaml").write_text((root / "storyboard.yaml").read_text().replace(
        "wan2.7-image, takes: 2}", "wan2.7-image, takes: 2, gate: false}"), encoding="utf-8")
    ungated = json.loads(CliRunner().invoke(cli, ["compile", str(root)]).stdout)
    assert [a.get("gate") for a in ungated["cast"] if a["id"].startswith("boards/")] == \
        [False] * 4, ungated


def test_a_board_chains_from_an_own_still(tmp_path: Path,
                                          make_media: Callable[..., Path]) -> None:
    body = SHOTS.replace("boards: {model: wan2.7-image, takes: 2}", "boards: {chain: true}")
    manifest = compile_path(series(tmp_path, make_media, body))
    words = boards_of(manifest)["boards/ep1/words"]
    assert words.asset is not None
    assert words.asset.refs[-1] == MediaRef(path=tmp_path / "media" / "still.png")
    assert str(tmp_path / "media" / "still.png") in words.inputs


def test_a_shots_own_board_takes(tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = SHOTS.replace('board: {prompt: "@sam alone at the window"}',
                         'board: {prompt: "@sam alone at the window", takes: 4}').replace(
        "        board: false\n", "        board: {takes: 1}\n")
    manifest = compile_path(series(tmp_path, make_media, body))
    boards = boards_of(manifest)
    assert [t.take for t in boards["boards/ep1/words"].all_takes()] == [1, 2, 3, 4]
    assert [t.take for t in boards["boards/ep1/bare"].all_takes()] == [1]  # over the block's 2
    assert [t.take for t in boards["boards/ep1/hook"].all_takes()] == [1, 2]


def test_misspelt_boards_are_located_schema_errors(tmp_path: Path,
                                                   make_media: Callable[..., Path]) -> None:
    body = SHOTS.replace("boards: {model", "bords: {model").replace(
        'board: {prompt: "@sam alone at the window"}', 'board: {promt: "x"}').replace(
        "scenes: [\"[0-5s] @sam leaves\"]", "scenes: [\"[0-5s] @sam leaves\"]\n        "
        "boards: {as: frist_frame}")
    root = series(tmp_path, make_media, body)
    shown = CliRunner().invoke(cli, ["check", str(root)])
    assert shown.exit_code != 0
    said = shown.output
    assert "storyboard.yaml:9:1: error: unknown key 'bords' (did you mean 'boards'?)" in said
    assert "unknown key 'promt' (did you mean 'prompt'?); expected one of: prompt, takes" in said
    assert "frist_frame" in said and "first_frame" in said
    assert "Traceback" not in said


def test_a_stored_check_keeps_boards_as_they_compiled(tmp_path: Path,
                                                      make_media: Callable[..., Path]) -> None:
    manifest = compile_path(series(tmp_path, make_media, SHOTS.replace(
        "takes: 2}", "takes: 2, gate: false}", 1)))
    back = storedform.decode(marshal.loads(marshal.dumps(storedform.encode(manifest))))
    assert back == manifest  # a new process reads the boards back as they were
    assert [s.board for s in back.episode_shots()] == \
        [s.board for s in manifest.episode_shots()]
    assert [s.gate for s in back.cast] == [True, True, False, False]


def test_a_rehash_reads_the_shots_needs_not_every_asset(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """A season's thousands of boards in the picked map change nothing for a shot that needs
    none of them; two needs of one hash replaced differently still go by the map's order."""
    hook = shot(compile_path(series(tmp_path, make_media, SHOTS)), "hook")
    board = hook.needs["boards/ep1/hook"]
    others = {f"boards/ep{n}/s": f"{n:064x}" for n in range(5000)}
    alone = rehashed(hook, {"boards/ep1/hook": "f" * 64})
    assert rehashed(hook, {**others, "boards/ep1/hook": "f" * 64}) == alone != hook
    assert rehashed(hook, others) is hook
    twice = replace(hook, needs={**hook.needs, "boards/ep1/twin": board})
    first, second = rehashed(twice, {"boards/ep1/twin": "a" * 64, "boards/ep1/hook": "b" * 64}), \
        rehashed(twice, {"boards/ep1/hook": "b" * 64, "boards/ep1/twin": "a" * 64})
    assert first.needs["boards/ep1/hook"] == "b" * 64 and second.needs["boards/ep1/hook"] == "a" * 64
