"""``storyboard translate`` (issue 68.2): a version's lines by the breakdown's model, against the
emulator's chat endpoint: priced and refused without consent, written, a hand fix kept on a
re-run, a changed source line proposed and never written over, ``--no-model``, and a run killed
mid-translation going on without paying again for what was answered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.emulator.server import EmulatorServer
from storyboard.language.versions.versionfile import is_hand_fixed, read_version, text_hash, version_path
from tests.fixtures.breakdown import KEY_ENV, chat_base, requests
from tests.fixtures.versions import versioned

ANSWERS = Path(".storyboard") / "breakdown" / "answers"


def translate(emulator: EmulatorServer, root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner(env={KEY_ENV: "sk-test-translate"}).invoke(cli, [
        "translate", str(root), "--language", "es", "--base-url", chat_base(emulator),
        "--api-key-env", KEY_ENV, *args])
    return result.exit_code, result.output


def test_translated_with_consent_then_a_hand_fix_is_kept(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root, before = versioned(tmp_path, make_media), requests(chat_emulator)
    code, said = translate(chat_emulator, root)
    assert code == 1 and "2 call(s) to ask qwen-plus" in said and "nothing was asked" in said
    assert requests(chat_emulator) == before and not (root / "languages").exists()
    code, said = translate(chat_emulator, root, "--budget", "0.0001")
    assert code == 1 and "more than --budget 0.0001; nothing was asked" in said, said
    assert requests(chat_emulator) == before
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "2 request(s) sent" in said and "3 line(s) translated" in said, said
    assert requests(chat_emulator) == before + 2
    path = version_path(root, "es", "ep01")
    toast, later = read_version(path, root).lines
    assert (toast.route, toast.text, toast.made) == ("lipsync", "[es] To retirement.",
                                                     text_hash("[es] To retirement."))
    assert (later.route, later.speaker, later.source) == ("none", "narrator",
                                                          "She never came back.")
    path.write_text(path.read_text("utf-8").replace('"[es] To retirement."', '"¡Por el retiro!"'),
                    "utf-8")
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "0 request(s) sent" in said and "1 fixed by hand" in said, said
    fixed = read_version(path, root).lines[0]
    assert fixed.text == "¡Por el retiro!" and is_hand_fixed(fixed)
    assert requests(chat_emulator) == before + 2  # nothing asked again, nothing paid again


def test_a_changed_source_line_is_proposed_never_written_over(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    assert translate(chat_emulator, root, "--yes")[0] == 0
    path = version_path(root, "es", "ep01")
    written = path.read_bytes()
    episode = root / "episodes" / "ep01.yaml"
    episode.write_text(episode.read_text().replace("came back", "came home"))
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "ep01/later 1: its source line changed" in said, said
    assert path.read_bytes() == written  # the file stands
    proposal = read_version(path.with_name("ep01.yaml.proposed"), root)
    assert proposal.lines[1].source == "She never came home."
    assert proposal.lines[1].text == "[es] She never came home."
    check = CliRunner().invoke(cli, ["check", str(root)])
    assert "ep01.yaml:15:5: warning: stale: the source line is now 'She never came home.'" \
        in check.output
    # taken by hand (the proposal copied over the file): nothing is stale, the proposal goes
    path.write_bytes(path.with_name("ep01.yaml.proposed").read_bytes())
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "0 request(s) sent" in said and "stale" not in said
    assert not path.with_name("ep01.yaml.proposed").exists()


def test_no_model_writes_the_entries_for_a_person(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root, before = versioned(tmp_path, make_media), requests(chat_emulator)
    code, said = translate(chat_emulator, root, "--no-model")
    assert code == 0 and "2 file(s) written" in said, said
    assert requests(chat_emulator) == before
    lines = read_version(version_path(root, "es", "ep02"), root).lines
    assert [(line.shot, line.source, line.text, line.made) for line in lines] == [
        ("morning", "Good morning, everyone.", "", None)]
    check = CliRunner().invoke(cli, ["check", str(root)])
    assert "ep02.yaml:7:5: warning: no words yet" in check.output
    code, said = translate(chat_emulator, root, "--language", "fr")
    assert code == 1 and "'fr' is not one of the series' languages (en, es)" in said


def test_a_killed_run_goes_on_without_paying_again(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    chat_emulator.script("chat:ok*1,chat:slow=60")
    command = [sys.executable, "-m", "storyboard", "translate", str(root), "--language", "es",
               "--base-url", chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, KEY_ENV: "sk-test-translate"})
    answers = root / ANSWERS
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(answers.glob("*.json"))) < 1:
        time.sleep(0.1)
    time.sleep(0.5)  # the second call is under way (slow)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert len(list(answers.glob("*.json"))) == 1 and not (root / "languages").exists()
    chat_emulator.clear_faults()
    before = requests(chat_emulator)
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "1 request(s) sent, 1 answer(s) from the cache" in said, said
    assert requests(chat_emulator) == before + 1  # only the call that was not answered
    assert [line.text for line in read_version(version_path(root, "es", "ep02"), root).lines] == [
        "[es] Good morning, everyone."]


def test_a_line_too_long_is_asked_again_shorter(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    assert translate(chat_emulator, root, "--yes")[0] == 0
    before = requests(chat_emulator)
    code, said = translate(chat_emulator, root, "--yes", "--shorter", "ep02/morning/1")
    assert code == 0 and "1 request(s) sent" in said and "1 line(s) translated" in said, said
    line = read_version(version_path(root, "es", "ep02"), root).lines[0]
    assert line.text == "[es] Good" and line.made == text_hash("[es] Good")
    assert requests(chat_emulator) == before + 1
    code, said = translate(chat_emulator, root, "--yes", "--shorter", "ep02/morning/2")
    assert code == 1 and "episode ep02 has no such line; expected one of ep02/morning/1" in said


def test_a_dry_run_in_json_lists_each_call(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root, before = versioned(tmp_path, make_media), requests(chat_emulator)
    result = CliRunner(env={KEY_ENV: "sk-test-translate"}).invoke(cli, [
        "translate", str(root), "--language", "es", "--base-url", chat_base(chat_emulator),
        "--api-key-env", KEY_ENV, "--dry-run", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["dry_run"] is True and data["language"] == "es"
    assert [c["stage"] for c in data["calls"]] == ["translate", "translate"]
    assert data["worst"] > 0 and data["written"] == [] and requests(chat_emulator) == before
    assert not (root / "languages").exists()


def test_one_episode_and_a_line_the_series_no_longer_has(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    code, said = translate(chat_emulator, root, "--yes", "--episodes", "ep02")
    assert code == 0 and "1 file(s) written" in said, said
    assert not version_path(root, "es", "ep01").exists()
    path = version_path(root, "es", "ep02")
    path.write_text(path.read_text("utf-8") + "# my note\n", "utf-8")
    code, said = translate(chat_emulator, root, "--yes", "--episodes", "ep02")
    assert code == 0 and "0 file(s) written, 1 unchanged" in said
    assert path.read_text("utf-8").endswith("# my note\n")  # nothing to change: not rewritten
    episode = root / "episodes" / "ep01.yaml"
    assert translate(chat_emulator, root, "--yes")[0] == 0
    episode.write_text(episode.read_text().replace(
        ', say: {narrator: "She never came back."},\n         voiceover: true}', "}"))
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "ep01/later 1: no longer a line of the series: left out" in said, said
    assert [line.shot for line in read_version(version_path(root, "es", "ep01"), root).lines] == [
        "toast"]
    code, said = translate(chat_emulator, root, "--episodes", "ep09")
    assert code == 1 and "ep09 not versioned into es; expected some of ep01, ep02" in said
    code, said = translate(chat_emulator, root, "--episodes", "3-")
    assert code == 1 and "--episodes: '3-' reaches past the series' 2 episode(s)" in said, said


def test_episodes_by_number_as_render_takes_them(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    code, said = translate(chat_emulator, root, "--yes", "--episodes", "2-")
    assert code == 0 and "1 file(s) written" in said, said
    assert version_path(root, "es", "ep02").exists()
    assert not version_path(root, "es", "ep01").exists()


def test_an_answer_still_wrong_after_its_send_backs_is_never_paid_for_again(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    chat_emulator.script("chat:schema*3")  # ep01's call and its send-backs, each wrong
    code, said = translate(chat_emulator, root, "--yes")
    chat_emulator.clear_faults()
    assert code == 1 and "error: the translation of ep01 (lines 1-2 of 2): " in said, said
    assert [line.text for line in read_version(version_path(root, "es", "ep01"), root).lines] == [
        "", ""]  # the entries, no words, for a person (ep02 was answered)
    before = requests(chat_emulator)
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 1 and "0 request(s) sent, 3 answer(s) from the cache" in said, said
    assert requests(chat_emulator) == before  # the same answers replayed, not bought again


def test_an_episodes_title_is_translated_kept_by_hand_and_on_its_versions_card(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """The delivered title card's words: a ``title:`` entry of the version file, and its
    "Episode N" a ``label:`` entry (every delivered episode's), by the model, kept when fixed by
    hand, and what the version's episode's title card says (its number in its language too)."""
    from storyboard.language.compile import compile_lenient
    from storyboard.language.read.series import load_source
    from storyboard.language.versions.versionfile import Version
    from storyboard.run.state.lock.lockfile import LockFile
    from storyboard.run.versions.cut import VersionCut
    from storyboard.run.versions.episodes import version_labels, version_title
    from storyboard.stitch.series.episodes import EpisodeBuilder
    root = versioned(tmp_path, make_media)
    episode = root / "episodes" / "ep01.yaml"
    episode.write_text(episode.read_text().replace("id: ep01\n", "id: ep01\ntitle: The Toast\n"))
    series = root / "storyboard.yaml"
    series.write_text(series.read_text() + "delivery: {preset: vertical}\n")
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "6 line(s) translated" in said, said  # 3 lines, the title, 2 labels
    path = version_path(root, "es", "ep01")
    written = path.read_text("utf-8")
    assert 'label:\n  source: "Episode 1"\n  text: "[es] Episode 1"\n  made: "' in written
    assert 'title:\n  source: "The Toast"\n  text: "[es] The Toast"\n  made: "' in written
    second = read_version(version_path(root, "es", "ep02"), root)
    assert second.title is None  # no title of its own, and its own number:
    assert second.label is not None and second.label.source == "Episode 2"
    path.write_text(written.replace('"[es] The Toast"', '"El brindis"').replace(
        '"[es] Episode 1"', '"Episodio 1"'), "utf-8")
    code, said = translate(chat_emulator, root, "--yes")
    assert code == 0 and "0 request(s) sent" in said and "2 fixed by hand" in said, said
    version = read_version(path, root)
    assert version.title is not None and version.title.text == "El brindis"
    assert version.label is not None and version.label.text == "Episodio 1"
    manifest, _ = compile_lenient(load_source(root))
    assert manifest is not None
    original = manifest.episodes[0]
    cut = VersionCut("es", manifest, LockFile(root / "storyboard.lock", {}, {}), [original],
                     [version, Version("es", "en", "ep02", ())])
    dubbed = original.__class__(original.id, version_title(cut, original), original.shots,
                                original.settings, original.span)
    card = EpisodeBuilder(manifest, root / "out" / "es", draft=False).card_spec(dubbed,
                                                                              "title_card")
    assert card is not None and card["text"] == "Episode 1\nEl brindis"  # no labels given
    builder = EpisodeBuilder(manifest, root / "out" / "es", draft=False)
    builder.labels = version_labels(cut)  # as the version's stitch gives them
    assert builder.card_spec(dubbed, "title_card") == {**card, "text": "Episodio 1\nEl brindis"}
    assert EpisodeBuilder(manifest, root / "out", draft=False).card_spec(
        original, "title_card") == {**card, "text": "Episode 1\nThe Toast"}  # the original's
    episode.write_text(episode.read_text().replace("The Toast", "A Toast"))
    check = CliRunner().invoke(cli, ["check", str(root)])
    assert "ep01.yaml:11:3: warning: stale: the episode's title is now 'A Toast'" \
        in check.output, check.output
    series.write_text(series.read_text().replace("  - episodes/*.yaml", "  - episodes/ep02.yaml\n"
                                                 "  - episodes/ep01.yaml"))  # ep01 is now 2nd
    check = CliRunner().invoke(cli, ["check", str(root)])
    assert "ep01.yaml:7:3: warning: stale: the episode's title card's number is now " \
        "'Episode 2', and this was translated from 'Episode 1'" in check.output, check.output


def test_a_version_folder_linked_outside_is_never_written_through(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """``languages/es`` a link to a folder outside the series: with the model or without, the
    run stops naming the link before anything is asked or written there."""
    root, before = versioned(tmp_path / "s", make_media), requests(chat_emulator)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "languages").mkdir()
    (root / "languages" / "es").symlink_to(elsewhere, target_is_directory=True)
    for how in ("--no-model", "--yes"):
        code, said = translate(chat_emulator, root, how)
        assert code == 1 and f"{root / 'languages' / 'es'} is a link (to {elsewhere})" in said, said
        assert list(elsewhere.iterdir()) == [] and requests(chat_emulator) == before


SECRET = "TOP-SECRET: the keys are under the mat"


def test_a_version_file_linked_outside_is_refused_unread(
        chat_emulator: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """``languages/es/ep01.yaml`` a link to a file outside the series, a version or any other
    file: refused, naming the file, and not a line of it is said; ``check`` refuses it too."""
    root = versioned(tmp_path / "s", make_media)
    outside = tmp_path / "outside"
    outside.mkdir()
    assert translate(chat_emulator, root, "--no-model")[0] == 0
    made = version_path(root, "es", "ep01")
    version = outside / "ep01.yaml"  # a true version, its words the secret
    version.write_text(made.read_text("utf-8").replace('text: ""', f'text: "{SECRET}"'), "utf-8")
    other = outside / "notes.txt"
    other.write_text(f"{SECRET}\nand: more\n", "utf-8")
    for target in (version, other):
        made.unlink()
        made.symlink_to(target)
        code, said = translate(chat_emulator, root, "--no-model")
        assert code == 1, said
        assert f"{made}:1:1: error: this version file leads outside the series folder" in said
        assert SECRET not in said and made.is_symlink()
        checked = CliRunner().invoke(cli, ["check", str(root)])
        assert checked.exit_code == 1 and "leads outside the series folder" in checked.output
        assert SECRET not in checked.output
