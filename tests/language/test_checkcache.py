"""A new process reads a compiled series back when nothing that decides it changed, and compiles
anew when anything did: the manifest is the very one a cold check gives (hashes are money)."""

from __future__ import annotations

import json
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.errors import ProblemsFound
from storyboard.language import checkcache, incremental
from storyboard.language.compile import compile_path
from storyboard.language.request import Manifest
from tests.fixtures.series_gen import make_series, shot

KINDS_WITH_A_PROBLEM = (8, 9)  # an unknown character, a transition too long, a shot too long


def clean_episode(number: int, shots: int) -> str:
    """An episode of every shot kind ``series_gen`` makes but those with a problem."""
    lines = [f"id: ep{number:02d}", f"title: Episode {number}",
             "takes: 2" if number % 2 else 'title_card: {text: "Part", duration: 2}', "shots:"]
    for index in range(shots):
        if index % 12 not in KINDS_WITH_A_PROBLEM:
            lines += [line.replace("first_frame: media/", "first_frame: ../media/")
                      for line in shot(index)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def series(tmp_path: Path) -> Iterator[Path]:
    root = make_series(tmp_path / "generated", episodes=0, shots=0)
    for number in range(2):
        (root / "episodes" / f"{number:02d}.yaml").write_text(clean_episode(number, 12))
    incremental.forget()
    yield root
    incremental.forget()


def new_process(root: Path, provider: str | None = None) -> Manifest:
    """``compile_path`` as a new process runs it: nothing kept in memory."""
    incremental.forget()
    return compile_path(root, provider=provider)


def cold(root: Path, provider: str | None = None) -> Manifest:
    """A check with nothing stored anywhere (and nothing stored after it)."""
    shutil.rmtree(root / ".storyboard" / "checked", ignore_errors=True)
    manifest = new_process(root, provider)
    shutil.rmtree(root / ".storyboard" / "checked")
    return manifest


def entries(root: Path) -> list[Path]:
    folder = root / ".storyboard" / "checked"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def body_of(entry: Path) -> bytes:
    """An entry's JSON, after its signature line (decompressed)."""
    return zlib.decompress(entry.read_bytes().partition(b"\n")[2])


def signed(entry: Path, text: str) -> None:
    """``text`` written as an entry this machine signed (compressed, as entries are)."""
    body = zlib.compress(text.encode("utf-8"))
    mac = checkcache._signature(body)
    assert mac is not None
    entry.write_bytes(mac.encode("ascii") + b"\n" + body)


def test_a_new_process_reads_the_compiled_series_back(series: Path) -> None:
    first = new_process(series)
    assert len(entries(series)) == 1 and first.warnings  # stored, with its warnings
    again = new_process(series)
    assert incremental.STATS["resolved"] == 0 and incremental.STATS["compiled"] == 0
    assert again == first  # every episode, shot, take, request, canonical form, hash, warning
    assert [t.hash for t in again.takes()] == [t.hash for t in first.takes()]
    assert again.cast and [a.asset for a in again.cast] == [a.asset for a in first.cast]
    assert again.warnings is not first.warnings


def test_the_same_process_reads_it_once(series: Path) -> None:
    new_process(series)
    incremental.forget()
    first = compile_path(series)
    for entry in entries(series):
        entry.write_text("{}")  # were it read again, this would compile anew
    again = compile_path(series)
    assert again == first and incremental.STATS["resolved"] == 0
    again.warnings.append(again.warnings[0])
    assert compile_path(series).warnings == first.warnings  # a copy each time


def edit_episode(root: Path) -> None:
    file = root / "episodes" / "01.yaml"
    file.write_text(file.read_text().replace("plays take 0", "sings take 0"))


def edit_series(root: Path) -> None:
    file = root / "storyboard.yaml"
    file.write_text(file.read_text().replace("seed: 7", "seed: 8"))


def new_bytes(root: Path) -> None:
    shutil.copyfile(root / "media" / "cast" / "mia.png", root / "media" / "props" / "guitar.png")


def new_episode(root: Path) -> None:
    (root / "episodes" / "02.yaml").write_text(clean_episode(2, 3))


@pytest.mark.parametrize("change", [edit_episode, edit_series, new_bytes, new_episode])
def test_a_change_to_what_decides_it_compiles_anew(series: Path, change: object) -> None:
    before = new_process(series)
    change(series)  # type: ignore[operator]
    after = new_process(series)
    assert incremental.STATS["resolved"] > 0
    assert after == cold(series) and after != before


def test_a_media_file_gone_compiles_anew_and_says_so(series: Path) -> None:
    new_process(series)
    (series / "media" / "props" / "guitar.png").unlink()
    with pytest.raises(ProblemsFound) as found:
        new_process(series)
    assert "missing or unreadable file 'media/props/guitar.png'" in str(found.value.diagnostics)


def test_a_touched_media_file_with_the_same_bytes_is_the_same(series: Path) -> None:
    first = new_process(series)
    (series / "media" / "cast" / "mia.png").write_bytes((series / "media" / "cast" /
                                                         "mia.png").read_bytes())
    assert new_process(series) == first and incremental.STATS["resolved"] == 0


def test_another_provider_working_folder_or_code_compiles_anew(
        series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = new_process(series)
    with pytest.raises(ProblemsFound) as found:
        new_process(series, "arrays")  # its own entry (none: it has errors) and its own result
    assert "arrays fetches files from public URLs" in str(found.value.diagnostics)
    monkeypatch.chdir(tmp_path)
    assert new_process(series) == cold(series) and incremental.STATS["resolved"] > 0
    monkeypatch.setattr(checkcache, "code_digest", lambda: "a newer storyboard")
    new_process(series)
    assert incremental.STATS["resolved"] > 0
    monkeypatch.undo()
    assert new_process(series) == first


@pytest.mark.parametrize("text", [
    "not json", "{}", '{"key": 1}', "[1, 2]", '{"key": "K", "entry": {"@Popen": ["ls"]}}',
    '{"key": "K", "entry": {"@entry": [{"@Manifest": [1]}, [], []]}}',
    '{"key": "K", "entry": {"@entry": [{"@p": "x"}, [], []]}}',
    '{"key": "K", "entry": {"@entry": [1, 2]}}',
    '{"key": "K", "entry": {"@entry": [{"@Manifest": ["t", "n", {"@p": "/"}, {"@p": "/s"}, '
    '[1], {}, null, null, [], false, null, []]}, [], []]}}',
    '{"key": "K", "entry": {"@entry": [{"@Manifest": ["t", "n", {"@p": "/"}, {"@p": "/s"}, '
    '[], {}, null, null, [], false, null, []]}, ["x"], [[1, "d"]]]}}'])
def test_a_damaged_or_foreign_entry_only_compiles_anew(series: Path, text: str) -> None:
    first = new_process(series)
    (entry,) = entries(series)
    wanted = json.loads(body_of(entry))["key"]
    signed(entry, text.replace('"K"', json.dumps(wanted)))  # as if this machine had written it
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    assert new_process(series) == first and incremental.STATS["resolved"] == 0  # stored again


def test_a_series_with_an_error_or_templates_is_not_stored(series: Path) -> None:
    (series / "episodes" / "02.yaml").write_text(
        'id: ep02\nshots:\n  - {id: a, prompt: "@nobody waves"}\n')
    with pytest.raises(ProblemsFound):
        new_process(series)
    assert entries(series) == []
    (series / "episodes" / "02.yaml").write_text(
        'id: ep02\nshots:\n  - {id: a, prompt: "@mia waves {{ 1 + 1 }} times"}\n')
    assert new_process(series).episodes[2].shots[0].request.prompt.endswith("waves 2 times")
    assert entries(series) == []


def test_a_users_keys_are_never_read_as_tags(series: Path) -> None:
    file = series / "storyboard.yaml"
    tagged = '{"@t": [1, 2], "@p": "x", "@Manifest": [], "@entry": 1}'
    file.write_text(file.read_text().replace(
        "music:", f"store: {{url: ./store, options: {tagged}}}\nmusic:"))
    first = new_process(series)
    assert first.store["options"] == json.loads(tagged)
    assert new_process(series) == first and incremental.STATS["resolved"] == 0


def test_a_linked_folder_is_never_written_through(series: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (series / ".storyboard").mkdir(exist_ok=True)
    (series / ".storyboard" / "checked").symlink_to(elsewhere)
    first = new_process(series)
    assert list(elsewhere.iterdir()) == []
    assert new_process(series) == first


def test_every_kind_of_value_round_trips() -> None:
    from storyboard.errors import Diagnostic, Span
    problems = [Diagnostic(Span("a.yaml", 1, 2), "a warning", "warning", "line", "code")]
    manifest = Manifest(title="T", name="n", root=Path("/r"), source=Path("/r/s.yaml"),
                        episodes=[], provider={"@d": [[1, 2]]}, store=["@r", {"@t": 0}])
    entry = checkcache.Entry(manifest, problems, {"/m.png": "abc", "/gone.png": None})
    assert checkcache.decode(checkcache.encode(entry)) == entry
    with pytest.raises(TypeError):
        checkcache.encode(checkcache.Entry(manifest, [object()], {}))  # type: ignore[list-item]


def test_a_value_shared_between_shots_is_written_once() -> None:
    from storyboard.language.request import MediaItem, MediaRef, Mention
    mia = MediaRef(path=Path("/r/media/mia.png"))
    voice = MediaRef(path=Path("/r/media/mia.wav"))
    said = Mention("mia", "image", 1)
    items = [MediaItem("reference_image", mia, "Image 1", "mia", voice),
             MediaItem("reference_image", mia, "Image 1", "mia", voice), said, said,
             MediaRef(path=Path("/r/media/mia.png")), {"@t": said}]
    manifest = Manifest(title="T", name="n", root=Path("/r"), source=Path("/r/s.yaml"),
                        episodes=[], provider={"items": items}, store=[said, mia])
    entry = checkcache.Entry(manifest, [], {})
    text = checkcache.encode(entry)
    assert text.count("mia.png") == 2 and text.count("mia.wav") == 1  # an equal one apart
    assert text.count('"@Mention"') == 1 and text.count('{"@r":') == 6
    again = checkcache.decode(text)
    assert again == entry
    found = again.manifest.provider["items"]
    assert found[0].ref is found[1].ref is again.manifest.store[1] and found[2] is found[3]
    assert found[5] == {"@t": said} and found[4] is not found[0].ref


# --- entries bound to this machine: edited, copied, nested deep --------------------------------


def split_entry(entry: Path) -> tuple[bytes, bytes]:
    """An entry's signature line (with its line break) and its JSON (decompressed)."""
    head, newline, rest = entry.read_bytes().partition(b"\n")
    return head + newline, zlib.decompress(rest)


def test_an_entry_edited_in_place_is_only_a_miss(series: Path) -> None:
    first = new_process(series)
    (entry,) = entries(series)
    prompt = first.episodes[0].shots[0].request.prompt
    head, body = split_entry(entry)
    said = json.dumps(prompt).encode()
    assert said in body
    entry.write_bytes(head + zlib.compress(
        body.replace(said, json.dumps("a prompt nobody wrote").encode(), 1)))
    again = new_process(series)  # its key kept, its signature no longer its own
    assert again == first and incremental.STATS["resolved"] > 0
    assert again.episodes[0].shots[0].request.prompt == prompt


def test_an_entry_copied_from_another_machine_is_only_a_miss(
        series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(tmp_path / "elsewhere"))
    first = new_process(series)  # written, and signed, by "another machine"
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(tmp_path / "here"))
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    assert new_process(series) == first and incremental.STATS["resolved"] == 0  # signed here now
    assert (tmp_path / "elsewhere" / checkcache.SECRET).is_file()
    secret = tmp_path / "here" / checkcache.SECRET
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_bytes()) == 32


@pytest.mark.parametrize("sign", [False, True], ids=["written-elsewhere", "signed-here"])
def test_an_entry_nested_deep_is_only_a_miss(series: Path, sign: bool) -> None:
    from click.testing import CliRunner

    from storyboard.cli import cli
    first = new_process(series)
    (entry,) = entries(series)
    wanted = json.loads(split_entry(entry)[1])["key"]
    deep = f'{{"key": {json.dumps(wanted)}, "entry": {"[" * 100_000}1{"]" * 100_000}}}'
    if sign:
        signed(entry, deep)
    else:
        entry.write_text(deep)
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    for command in (["check"], ["plan"], ["status"]):
        if sign:
            signed(entry, deep)
        else:
            entry.write_text(deep)
        incremental.forget()
        checkcache.forget()
        result = CliRunner().invoke(cli, [*command, str(series)])
        assert result.exit_code == 0, (command, result.output)
        assert "Traceback" not in result.output and "RecursionError" not in result.output


# --- no collection pauses: none while compiling, none walking the series right after -----------


def test_a_check_leaves_no_collection_of_what_it_made(series: Path) -> None:
    import gc
    incremental.forget()
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    frozen = gc.get_freeze_count()
    gc.callbacks.append(seen)
    try:
        manifest = compile_path(series)  # thousands of objects made, all kept or freed
    finally:
        gc.callbacks.remove(seen)
    assert collections == []  # none while compiling, and none walking them all on the way out
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert manifest.episodes  # kept; and a cycle made while compiling is still collected:
    with checkcache.no_gc_pauses():
        cycle: list[object] = []
        cycle.append(cycle)
        witness = _Witness()
        cycle.append(witness)
    del cycle, witness
    assert _Witness.alive == 1 and gc.collect() > 0 and _Witness.alive == 0


def test_objects_frozen_by_the_program_stay_frozen(series: Path) -> None:
    """A check run by a program that froze objects leaves them frozen: the collector's
    generations (``gc.get_objects``) do not hold a frozen object, before the check or after. (Not
    the freeze count: a frozen object freed by its last reference leaves the count too.)"""
    import gc
    witness: list[object] = [object()]
    gc.freeze()
    try:
        assert not any(o is witness for o in gc.get_objects())
        new_process(series)
        assert not any(o is witness for o in gc.get_objects()) and gc.isenabled()
    finally:
        gc.unfreeze()
    assert any(o is witness for o in gc.get_objects())  # the test can tell


class _Witness:
    alive = 0

    def __init__(self) -> None:
        _Witness.alive += 1

    def __del__(self) -> None:
        _Witness.alive -= 1


def test_an_entry_is_stored_compressed(series: Path) -> None:
    """A season's compiled JSON is ten times its series' own files: kept compressed on disk."""
    first = new_process(series)
    (entry,) = entries(series)
    body = split_entry(entry)[1]
    assert json.loads(body)["key"] and entry.stat().st_size * 3 < len(body)
    assert new_process(series) == first and incremental.STATS["resolved"] == 0


# --- the stored text: the same bytes, written sooner -------------------------------------------


class _PlainEncoder:
    """The stored series' ``default`` as it was before its shortcuts (every value through
    ``_encoded``, a shared one looked up first): the text to match byte for byte."""

    def __init__(self) -> None:
        self.written: dict[int, dict[str, int]] = {}

    def __call__(self, value: object) -> dict[str, object]:
        found = self.written.get(id(value))
        if found is not None:
            return found
        if value.__class__ in checkcache.SHARED:
            self.written[id(value)] = {"@r": len(self.written)}
        return checkcache._encoded(value)


def test_the_stored_text_is_what_the_plain_encoder_writes(series: Path) -> None:
    """The shortcuts (plain classes first, no cycle check) change no byte of an entry."""
    manifest = new_process(series)
    entry = checkcache.Entry(manifest, [], {"/m.png": "abc"})
    plain = json.dumps({"@entry": [manifest, [], [["/m.png", "abc"]]]}, default=_PlainEncoder(),
                       separators=(",", ":"), allow_nan=False)
    text = checkcache.encode(entry)
    assert text == plain and '"@CompiledShot"' in text and '{"@r":' in text


def test_a_value_that_holds_itself_is_not_stored(series: Path, tmp_path: Path) -> None:
    """No cycle check in the encoder: a value that holds itself (the compiler makes none) is a
    RecursionError, let be like any value JSON cannot hold: nothing stored, no traceback."""
    manifest = new_process(series)
    looped = Manifest(title="T", name="n", root=Path("/r"), source=Path("/r/s.yaml"),
                      episodes=[])
    looped.cast.append(looped)  # type: ignore[arg-type]
    file = tmp_path / "entry.json"
    checkcache.write(("key", file), checkcache.Entry(looped, [], {}))
    assert not file.exists()
    checkcache.write(("key", file), checkcache.Entry(manifest, [], {}))
    assert file.exists()  # the test can tell: a value that holds nothing is stored there
