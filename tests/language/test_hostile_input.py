"""Hostile input against `storyboard check` (and the first steps of `render`): every input gives a
located error, a usage error or success; never a traceback, a hang, a crash or a secret printed.

``TestCorpus`` is a table of hostile inputs (YAML bombs, tags, unicode, path escapes, lying and
corrupt media, injection strings), each a small change to a clean series, each with what `check`
must answer. The other tests cover what a table cannot: links, FIFOs, read-only state, big files.
Credentials inside URLs, never printed by any command, are the CLI's tests
(``tests/cli/test_credentials_in_urls.py``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.language.document import MAX_DEPTH, MAX_FILE_BYTES
from tests.fixtures.compiler import EPISODE_FILE as EPISODE
from tests.fixtures.compiler import SERIES_HEAD, base_series
from tests.fixtures.hostile_text import markup_strings

MakeMedia = Callable[..., Path]
SECRET = "root:x:0:0:TOP-SECRET-LINE"

# --- helpers -------------------------------------------------------------------------------------


def check(path: Path) -> Result:
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output
    return result


def check_in_a_process(path: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A real process with a time limit: a hang or a crash (a signal) fails the test."""
    proc = subprocess.run([sys.executable, "-m", "storyboard", "check", str(path)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    return proc


def located(output: str, file: str, fragment: str) -> bool:
    """``output`` holds ``...file:line:col: error: ...fragment...``."""
    pattern = rf"{re.escape(file)}:\d+:\d+: error: [^\n]*{re.escape(fragment)}"
    return re.search(pattern, output) is not None


def data_uri(kind: str, payload: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(payload).decode()}"


PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG_HEAD = b"\xff\xd8\xff\xe0" + b"\x00" * 24

# --- the corpus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """``files`` are written over the clean series (``bytes`` as is); ``expect`` is ``ok``,
    ``usage`` or ``error``; an error names ``where`` (a file name) and ``says`` (a fragment)."""

    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    expect: str = "error"
    where: str = "ep01.yaml"
    says: str = ""


def shot(body: str) -> str:
    """An episode file whose one shot has ``body`` (YAML lines) under it."""
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"id: ep01\nshots:\n  - id: a\n{lines}\n"


def series_with(extra: str) -> str:
    return SERIES_HEAD + extra + "episodes:\n  - episodes/*.yaml\n"


def nested(depth: int) -> str:
    return "id: ep01\nshots: []\nx:\n" + "".join("  " * (i + 1) + "- \n" for i in range(depth))


LAUGHS = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
    f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]"
    for i in range(1, 9)])

CORPUS: list[Case] = [
    # clean and odd-but-fine input
    Case("clean", expect="ok"),
    Case("unicode prompt", {"episodes/ep01.yaml": shot(
        'prompt: "@mia sourit \u00e0 @sam \u2014 \u4f60\u597d \U0001f600"')}, expect="ok"),
    Case("byte order mark", {"episodes/ep01.yaml": "\ufeff" + EPISODE}, expect="ok"),
    Case("crlf line ends", {"episodes/ep01.yaml": EPISODE.replace("\n", "\r\n")}, expect="ok"),
    Case("quotes and braces in a prompt", {"episodes/ep01.yaml": shot(
        "prompt: '@mia says \"%{pts}\" {a} [b] \\\\ ; ` $(rm -rf /)'")}, expect="ok"),
    Case("a hex card colour", {"episodes/ep01.yaml": EPISODE + (
        "end_card: {text: bye, color: '#3b2418', text_color: '0xFFFFFF80'}\n")}, expect="ok"),
    Case("a good data: URI", {"episodes/ep01.yaml": EPISODE.replace(
        "prompt:", "first_frame: " + data_uri("image/png", PNG_HEAD) + "\n    prompt:")},
        expect="ok"),
    # YAML itself
    Case("alias bomb", {"episodes/ep01.yaml": "id: ep01\nshots: []\n" + LAUGHS + "\n"},
         says="alias bomb"),
    Case("python tag", {"episodes/ep01.yaml": shot(
        "prompt: !!python/object/apply:os.system ['echo owned']")}, says="unsupported YAML tag"),
    Case("python name tag", {"episodes/ep01.yaml": "id: !!python/name:os.system ''\n"
                             "shots: []\n"}, says="unsupported YAML tag"),
    Case("custom local tag", {"episodes/ep01.yaml": shot("prompt: !secret '@mia'")},
         says="unsupported YAML tag"),
    Case("set tag", {"episodes/ep01.yaml": "id: ep01\nshots: !!set {a: null}\n"},
         says="unsupported YAML tag"),
    Case("block nesting 500 deep", {"episodes/ep01.yaml": nested(500)},
         says=f"nested more than {MAX_DEPTH} levels"),
    Case("flow nesting 100000 deep", {"episodes/ep01.yaml": "id: ep01\nshots: []\nx: "
                                      + "[" * 100_000 + "]" * 100_000 + "\n"},
         says=f"nested more than {MAX_DEPTH} levels"),
    Case("unclosed flow nesting", {"episodes/ep01.yaml": "x: " + "{a: " * 5000},
         says="nested more than"),
    Case("duplicate keys", {"episodes/ep01.yaml": "id: ep01\nid: ep02\nshots: []\n"},
         says="duplicate key 'id'"),
    Case("tabs for indentation", {"episodes/ep01.yaml": "id: ep01\nshots:\n\t- id: a\n"},
         says="invalid YAML"),
    Case("not UTF-8", {"episodes/ep01.yaml": b"id: ep01\nshots: []\ntitle: \xff\xfe\n"},
         says="not UTF-8"),
    Case("NUL byte", {"episodes/ep01.yaml": "id: ep01\nshots: []\ntitle: a\x00b\n"},
         says="invalid YAML"),
    Case("empty episode file", {"episodes/ep01.yaml": ""}, says="expected an episode"),
    Case("a list at the top", {"episodes/ep01.yaml": "- a\n- b\n"}, says="expected an episode"),
    Case("a scalar at the top", {"episodes/ep01.yaml": "just words\n"},
         says="expected an episode"),
    Case("merge of a scalar", {"episodes/ep01.yaml": "id: ep01\nshots: []\nx: {<<: 5}\n"},
         says="merge key"),
    Case("a mapping as a key", {"episodes/ep01.yaml": "id: ep01\nshots: []\n? {a: 1}\n: 2\n"},
         says="plain word"),
    Case("a series file of garbage", {"storyboard.yaml": "\x07\x08 :: ][\n"},
         where="storyboard.yaml", says="invalid YAML"),
    Case("a series that is a list", {"storyboard.yaml": "- storyboard: 1\n"},
         where="storyboard.yaml", says="expected a mapping"),
    # unicode in names
    Case("zero-width space in a mention", {"episodes/ep01.yaml": shot(
        'prompt: "@mi\u200ba waves"')}, says="unknown character"),
    Case("homoglyph mention", {"episodes/ep01.yaml": shot('prompt: "@m\u0456a waves"')},
         says="unknown character"),
    Case("right-to-left override in an id", {"episodes/ep01.yaml": EPISODE.replace(
        "id: a", "id: \"a\u202eb\"")}, says="does not have the expected form"),
    Case("a slash in an episode id", {"episodes/ep01.yaml": EPISODE.replace(
        "id: ep01", "id: ../../outside")}, says="does not have the expected form"),
    Case("a slash in a shot id", {"episodes/ep01.yaml": EPISODE.replace(
        "id: a", "id: x/../../y")}, says="does not have the expected form"),
    # paths
    Case("a parent path", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: ../../etc/passwd')}, says="leaves the series folder"),
    Case("an absolute path", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: /etc/passwd')}, says="leaves the series folder"),
    Case("a home path", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: ~/.ssh/id_rsa')}, says="missing or unreadable file"),
    Case("a file URL", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: file:///etc/passwd')}, says="missing or unreadable file"),
    Case("an episode glob upwards", {"storyboard.yaml": SERIES_HEAD
                                     + "episodes:\n  - ../*.yaml\n"},
         where="storyboard.yaml", says="leaves the series folder"),
    Case("an absolute episode path", {"storyboard.yaml": SERIES_HEAD
                                      + "episodes:\n  - /etc/passwd\n"},
         where="storyboard.yaml", says="leaves the series folder"),
    Case("an episode that is a folder", {"storyboard.yaml": SERIES_HEAD
                                         + "episodes:\n  - media\n"},
         where="storyboard.yaml", says="is not a regular file"),
    Case("a series character outside", {"storyboard.yaml": series_with(
        "  evil: {image: ../../../../etc/shadow}\n")},
         where="storyboard.yaml", says="leaves the series folder"),
    Case("music outside", {"storyboard.yaml": series_with(
        "music: {file: /dev/zero}\n")}, where="storyboard.yaml", says="leaves the series folder"),
    # lying and corrupt media
    Case("a PNG named .mp4", {"storyboard.yaml": series_with(
        "  fake: {video: media/mia.png}\n")}, where="storyboard.yaml",
         says="expected a video (MP4, MOV), but the content is a PNG"),
    Case("text named .png", {"media/notes.png": "just text\n", "storyboard.yaml": series_with(
        "  notes: {image: media/notes.png}\n")}, where="storyboard.yaml",
         says="the content is a file of unknown type"),
    Case("an empty image", {"media/empty.png": b"", "storyboard.yaml": series_with(
        "  empty: {image: media/empty.png}\n")}, where="storyboard.yaml",
         says="the content is a file of unknown type"),
    Case("a PNG header and nothing else", {"media/head.png": PNG_HEAD,
                                           "storyboard.yaml": series_with(
        "  head: {image: media/head.png}\n")}, where="storyboard.yaml", says="media/head.png"),
    Case("a folder named like an image", {"storyboard.yaml": series_with(
        "  dir: {image: media}\n")}, where="storyboard.yaml", says="media"),
    # data: URIs
    Case("data: URI not base64", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: "data:image/png,plain%20text"')},
         says="must be base64"),
    Case("data: URI with broken base64", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: "data:image/png;base64,@@notbase64@@"')},
         says="not valid base64"),
    Case("data: URI that lies about its type", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: "' + data_uri("image/png", JPEG_HEAD) + '"')},
         says="claims image/png, but its content is a JPEG"),
    Case("data: URI of an odd type", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: "' + data_uri("text/html", b"<script>") + '"')},
         says="is not accepted"),
    Case("data: URI with no comma", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: "data:image/png;base64"')}, says="must look like"),
    Case("data: URI as a character", {"storyboard.yaml": series_with(
        '  d: {image: "' + data_uri("image/png", b"GIF89a" + b"\x00" * 30) + '"}\n')},
         where="storyboard.yaml", says="its content is of unknown type"),
    # injection into ffmpeg through card colours
    Case("a filter string as a colour", {"episodes/ep01.yaml": EPISODE + (
        "title_card: {text: hi, color: 'red:s=16x16,drawtext=text=owned'}\n")},
         says="is not a colour"),
    Case("an option as a text colour", {"episodes/ep01.yaml": EPISODE + (
        "end_card: {text: hi, text_color: 'white:fontsize=400'}\n")}, says="is not a colour"),
    Case("a colour with a semicolon", {"episodes/ep01.yaml": EPISODE + (
        "end_card: {text: hi, color: 'black;[0:v]null'}\n")}, says="is not a colour"),
    Case("a short hex colour", {"episodes/ep01.yaml": EPISODE + (
        "end_card: {text: hi, color: '#fff'}\n")}, says="is not a colour"),
    Case("a random colour", {"episodes/ep01.yaml": EPISODE + (
        "end_card: {text: hi, color: random}\n")}, says="is not a colour"),
    # numbers and odd values
    Case("an infinite duration", {"episodes/ep01.yaml": shot('prompt: "@mia"\nduration: .inf')},
         says="expected a whole number, got Infinity"),
    Case("a NaN duration", {"episodes/ep01.yaml": shot('prompt: "@mia"\nduration: .nan')},
         says="expected a whole number, got NaN"),
    Case("a huge seed", {"episodes/ep01.yaml": shot('prompt: "@mia"\nseed: ' + "9" * 400)},
         says="expected a number <= 2147483647"),
    Case("a negative duration", {"episodes/ep01.yaml": shot('prompt: "@mia"\nduration: -5')},
         says="expected 2 to 15 s"),
    Case("a binary prompt", {"episodes/ep01.yaml": shot('prompt: !!binary aGVsbG8=')},
         says="unsupported YAML tag"),
    Case("a timestamp as an id", {"episodes/ep01.yaml": EPISODE.replace(
        "id: a", "id: 2001-12-14t21:59:43.10-05:00")}, says="does not have the expected form"),
    Case("null shots", {"episodes/ep01.yaml": "id: ep01\nshots: ~\n"}, says="expected a list, got null"),
    Case("a very long id", {"episodes/ep01.yaml": EPISODE.replace("id: a", "id: " + "a" * 5000)},
         says="5000 characters; expected at most 64"),
    Case("a scene window of huge numbers", {"episodes/ep01.yaml": shot(
        'scenes:\n  - at: 0-1e308s\n    action: "@mia"')}, says="expected"),
    Case("a transition of an unknown type", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\ntransition: {type: "fade;rm -rf /", duration: 1}')},
         says="expected one of cut, fade"),
    # injection strings that are only text: fine, they never reach a shell or a filter string
    Case("shell and filter syntax in card text", {"episodes/ep01.yaml": EPISODE + (
        "title_card: {text: \"$(reboot) `id` %{eif:1:d} \\\\N ;[v]\"}\n")}, expect="ok"),
    Case("control characters in a prompt", {"episodes/ep01.yaml": shot(
        'prompt: "@mia \\u001b[31mred\\u0007"')}, expect="ok"),
    Case("a subtitle line with SRT syntax", {"episodes/ep01.yaml": shot(
        'scenes:\n  - at: 0-2s\n    action: "@mia"\n    say: {mia: "1\\n00:00:01,000 --> x"}')},
         expect="ok"),
    Case("a line of subtitle markup", {"episodes/ep01.yaml": shot(
        "scenes:\n  - at: 0-2s\n    action: \"@mia\"\n    say: {mia: '"
        + " ".join(markup_strings()) + "'}")}, expect="ok"),
    # links and odd media
    Case("a voice that is an image", {"storyboard.yaml": SERIES_HEAD.replace(
        "media/mia.wav", "media/mia.png") + "episodes:\n  - episodes/*.yaml\n"},
         where="storyboard.yaml", says="expected an audio clip"),
    Case("a URL with credentials", {"episodes/ep01.yaml": shot(
        'prompt: "@mia"\nfirst_frame: "https://user:pass@example.com/a.png"')}, expect="ok"),
    Case("a data: URI of a voice that is a PNG", {"storyboard.yaml": SERIES_HEAD.replace(
        "media/mia.wav", '"' + data_uri("audio/wav", PNG_HEAD) + '"') + "episodes:\n  - episodes/*.yaml\n"},
         where="storyboard.yaml", says="claims audio/wav, but its content is a PNG"),
    # usage errors
    Case("no series file", {"storyboard.yaml": None}, expect="usage"),  # type: ignore[dict-item]
]


class TestCorpus:
    """Each hostile input, through the real command line."""

    @pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
    def test_check_answers_as_expected(self, case: Case, tmp_path: Path,
                                       make_media: MakeMedia) -> None:
        root = base_series(tmp_path / "s", make_media)
        for name, content in case.files.items():
            target = root / name
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="")
        result = check(root)
        if case.expect == "ok":
            assert result.exit_code == 0, result.output
        elif case.expect == "usage":
            assert result.exit_code == 2, result.output
            assert result.output.count("\n") <= 2
        else:
            assert result.exit_code == 1, result.output
            assert located(result.output, case.where, case.says), result.output

    def test_the_corpus_covers_every_kind(self) -> None:
        names = " ".join(c.name for c in CORPUS)
        for kind in ("bomb", "tag", "nesting", "unicode", "path", "data:", "colour", "PNG",
                     "UTF-8", "usage" if False else "no series"):
            assert kind in names, kind


# --- 4. episode files outside the series ----------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\nmore: lines\n", encoding="utf-8")
    return secret


def test_a_linked_episode_file_outside_is_refused_unread(tmp_path: Path, make_media: MakeMedia,
                                                         outside: Path) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / "episodes" / "ep02.yaml").symlink_to(outside)
    result = check(root)
    assert result.exit_code == 1
    assert located(result.output, "storyboard.yaml", "'episodes/ep02.yaml' leads outside the "
                   "series folder")
    assert "TOP-SECRET" not in result.output


def test_a_linked_episodes_folder_outside_is_refused(tmp_path: Path, make_media: MakeMedia,
                                                     outside: Path) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / "episodes" / "ep01.yaml").unlink()
    (root / "episodes").rmdir()
    (outside.parent / "ep01.yaml").write_text(EPISODE, encoding="utf-8")
    (root / "episodes").symlink_to(outside.parent, target_is_directory=True)
    result = check(root)
    assert result.exit_code == 1
    assert "leads outside the series folder" in result.output
    assert "TOP-SECRET" not in result.output


def test_a_link_inside_the_series_is_fine(tmp_path: Path, make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / "drafts").mkdir()
    (root / "episodes" / "ep01.yaml").rename(root / "drafts" / "ep01.yaml")
    (root / "episodes" / "ep01.yaml").symlink_to(root / "drafts" / "ep01.yaml")
    assert check(root).exit_code == 0


TEMPLATE_USE = "id: ep01\nshots:\n  - use: promo\n"


def test_a_linked_template_file_outside_is_refused_unread(tmp_path: Path, make_media: MakeMedia,
                                                          outside: Path) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / "templates").mkdir()
    (root / "templates" / "promo.yaml").symlink_to(outside)
    (root / "episodes" / "ep01.yaml").write_text(TEMPLATE_USE, encoding="utf-8")
    result = check(root)
    assert result.exit_code == 1
    assert located(result.output, "ep01.yaml", "template 'promo' (templates/promo.yaml) leads "
                   "outside the series folder")
    assert "TOP-SECRET" not in result.output


def test_a_linked_templates_folder_outside_is_refused_unread(
        tmp_path: Path, make_media: MakeMedia, outside: Path) -> None:
    root = base_series(tmp_path / "s", make_media)
    (outside.parent / "promo.yaml").symlink_to(outside)
    (root / "templates").symlink_to(outside.parent, target_is_directory=True)
    (root / "episodes" / "ep01.yaml").write_text(TEMPLATE_USE, encoding="utf-8")
    result = check(root)
    assert result.exit_code == 1
    assert located(result.output, "ep01.yaml", "leads outside the series folder")
    assert "TOP-SECRET" not in result.output


def test_a_template_linked_inside_the_series_is_fine(tmp_path: Path,
                                                     make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / "drafts").mkdir()
    (root / "drafts" / "promo.yaml").write_text("shots:\n  - {prompt: '@mia waves'}\n")
    (root / "templates").mkdir()
    (root / "templates" / "promo.yaml").symlink_to(root / "drafts" / "promo.yaml")
    (root / "episodes" / "ep01.yaml").write_text(TEMPLATE_USE, encoding="utf-8")
    assert check(root).exit_code == 0, check(root).output


# --- 5. no traceback, no hang, bounded memory -------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_named_like_media_does_not_block_check(tmp_path: Path,
                                                      make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    os.mkfifo(root / "media" / "pipe.png")
    text = (root / "storyboard.yaml").read_text().replace(
        "episodes:", "  pipe: {image: media/pipe.png}\nepisodes:")
    (root / "storyboard.yaml").write_text(text)
    proc = check_in_a_process(root)
    assert proc.returncode == 1
    assert located(proc.stderr, "storyboard.yaml", "'media/pipe.png' is not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_as_an_episode_file_does_not_block_check(tmp_path: Path,
                                                        make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    os.mkfifo(root / "episodes" / "ep02.yaml")
    (root / "storyboard.yaml").write_text(SERIES_HEAD + "episodes:\n  - episodes/ep01.yaml\n"
                                          "  - episodes/ep02.yaml\n")
    proc = check_in_a_process(root)
    assert proc.returncode == 1
    assert located(proc.stderr, "storyboard.yaml", "'episodes/ep02.yaml' is not a regular file")


def test_a_huge_episode_file_is_refused_before_it_is_parsed(tmp_path: Path,
                                                           make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    big = root / "episodes" / "ep01.yaml"
    with big.open("w", encoding="utf-8") as handle:
        handle.write("id: ep01\nshots:\n")
        line = "  - {id: s, prompt: '@mia'}\n"
        handle.write(line * (3 * MAX_FILE_BYTES // len(line)))
    proc = check_in_a_process(root)
    assert proc.returncode == 1
    assert located(proc.stderr, "ep01.yaml", "the file is over 1 MiB")
    assert "alias bomb" not in proc.stderr


def test_deep_nesting_never_crashes_the_parser(tmp_path: Path, make_media: MakeMedia) -> None:
    """libyaml's composer recurses in C: 300,000 brackets would kill the process."""
    root = base_series(tmp_path / "s", make_media)
    (root / "episodes" / "ep01.yaml").write_text("x: " + "[" * 300_000 + "]" * 300_000 + "\n")
    proc = check_in_a_process(root)
    assert proc.returncode == 1
    assert located(proc.stderr, "ep01.yaml", "nested more than")


# --- 6. read-only places ----------------------------------------------------------------------


@pytest.mark.parametrize("blocker", ["a file named .storyboard", "a folder named run.lock"])
def test_an_unwritable_state_folder_is_one_line_before_anything_is_spent(
        tmp_path: Path, make_media: MakeMedia, blocker: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    root = base_series(tmp_path / "s", make_media)
    if blocker.startswith("a file"):
        (root / ".storyboard").write_text("not a folder")
    else:
        (root / ".storyboard" / "run.lock").mkdir(parents=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", str(root), "--yes", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"cannot write to {root / '.storyboard'}" in errors[0], (
        result.stderr)
    assert "nothing was spent" in errors[0]
    assert not (out / "ep01.mp4").exists()
    assert not any(root.glob(".storyboard/cache/**/*.mp4"))


def test_plan_works_beside_an_unwritable_state_folder(tmp_path: Path,
                                                      make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / ".storyboard").write_text("not a folder")
    result = CliRunner().invoke(cli, ["plan", str(root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["shots"]


# --- 7. check catches what would fail after paying ----------------------------------------------


def test_a_truncated_mp4_with_an_intact_header_fails_check(tmp_path: Path,
                                                           make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    video = make_media("video", root / "media" / "cut.mp4", width=320, height=240, seconds=2.0)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) * 2 // 3])
    text = (root / "storyboard.yaml").read_text().replace(
        "episodes:", "  cut: {video: media/cut.mp4}\nepisodes:")
    (root / "storyboard.yaml").write_text(text)
    (root / "episodes" / "ep01.yaml").write_text(shot('prompt: "@cut dances"'))
    result = check(root)
    assert result.exit_code == 1
    assert located(result.output, "storyboard.yaml", "media/cut.mp4: the MP4 is cut short")


def test_the_whole_mp4_passes(tmp_path: Path, make_media: MakeMedia) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / "episodes" / "ep01.yaml").write_text(shot('prompt: "@sam dances"'))
    assert check(root).exit_code == 0


@pytest.mark.parametrize(("card", "where"), [
    ("title_card: {text: hi, color: 'red:s=16x16,drawtext=text=x'}", "5:31"),
    ("end_card: {text: hi, text_color: 'white:fontsize=400'}", "5:34"),
])
def test_a_bad_card_colour_is_located(tmp_path: Path, make_media: MakeMedia, card: str,
                                      where: str) -> None:
    root = base_series(tmp_path / "s", make_media)
    (root / "episodes" / "ep01.yaml").write_text(EPISODE + card + "\n")
    result = check(root)
    assert result.exit_code == 1
    assert re.search(rf"ep01\.yaml:{where}: error: .* is not a colour", result.output), (
        result.output)
