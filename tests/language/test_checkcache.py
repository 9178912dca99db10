"""A new process reads a compiled series back when nothing that decides it changed, and compiles
anew when anything did: the manifest is the very one a cold check gives (hashes are money)."""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from storyboard.errors import ProblemsFound
from storyboard.language import storedform
from storyboard.language.cache import checkcache, episodecache, incremental
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
    episodecache.forget()
    return compile_path(root, provider=provider)


def cold(root: Path, provider: str | None = None) -> Manifest:
    """A check with nothing stored anywhere (and nothing stored after it)."""
    shutil.rmtree(root / ".storyboard" / "checked", ignore_errors=True)
    manifest = new_process(root, provider)
    shutil.rmtree(root / ".storyboard" / "checked")
    return manifest


def entries(root: Path) -> list[Path]:
    folder = root / ".storyboard" / "checked"
    return sorted(folder.glob("*.entry")) if folder.is_dir() else []


def split_entry(entry: Path) -> tuple[bytes, str, bytes]:
    """An entry's signature line (with its line break), its key, and its marshalled data
    (decompressed)."""
    mac, newline, body = entry.read_bytes().partition(b"\n")
    head, _, payload = body.partition(b"\n")
    tag, key = head.decode().split(" ")
    assert tag == storedform.TAG
    return mac + newline, key, zlib.decompress(payload)


def signed(entry: Path, key: str, payload: bytes) -> None:
    """``payload`` written under ``key`` as an entry this machine signed (compressed, as entries
    are)."""
    assert storedform.write(entry, key, zlib.compress(payload))


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


def test_the_code_digest_covers_every_module_of_the_package(tmp_path: Path) -> None:
    """An edit anywhere in the package (a target's rule, not only the language) makes a new
    process compile anew: the digest walks the whole of ``storyboard/``."""
    shutil.copytree(Path(checkcache.__file__).parents[2], tmp_path / "storyboard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = "from storyboard.language.cache import checkcache; print(checkcache.code_digest())"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)}

    def digest() -> str:
        done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    first = digest()
    assert digest() == first
    for edited in ("targets/kinds.py", "language/compile.py"):
        module = tmp_path / "storyboard" / edited
        os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 10**9))
        assert digest() != first, edited
        first = digest()


def _manifest(episodes: object = (), **given: object) -> tuple[object, ...]:
    """A stored manifest's form with ``episodes`` (and other fields) as given."""
    form = list(storedform.encode(Manifest(title="t", name="n", root=Path("/"),
                                           source=Path("/s"), episodes=[])))
    names = [f.name for f in fields(Manifest) if f.init]
    form[1 + names.index("episodes")] = list(episodes)  # type: ignore[call-overload]
    for name, value in given.items():
        form[1 + names.index(name)] = value
    return tuple(form)


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


MANIFEST, PATH = storedform.NUMBERS[Manifest], storedform.PATH
DAMAGED = {
    "not marshal": b"\xff not marshal", "cut short": marshal.dumps([1, 2, 3])[:-3],
    "empty": b"", "a mapping": marshal.dumps({}), "two values": marshal.dumps([1, 2]),
    "no such class": marshal.dumps([(99, "ls"), [], []]),
    "a path of a number": marshal.dumps([(PATH, 5), [], []]),
    "a tag of no kind": marshal.dumps([("Popen", "ls"), [], []]),
    "too few fields": marshal.dumps([(MANIFEST, 1), [], []]),
    "a path for a manifest": marshal.dumps([(PATH, "x"), [], []]),
    "an episode of a number": marshal.dumps([_manifest([1]), [], []]),
    "a problem of text": marshal.dumps([_manifest(), ["x"], []]),
    "a media file of a number": marshal.dumps([_manifest(), [], [(1, "d")]]),
    "no problems list": marshal.dumps([_manifest(), 7, []]),
    "code": marshal.dumps(compile("raise SystemExit('ran')", "<planted>", "exec")),
    "nested past the reader": marshal.dumps([_manifest(store=_nested(1500)), [], []]),
}


@pytest.mark.parametrize("payload", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_or_foreign_entry_only_compiles_anew(series: Path, payload: bytes) -> None:
    first = new_process(series)
    (entry,) = entries(series)
    signed(entry, split_entry(entry)[1], payload)  # as if this machine had written it
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    assert new_process(series) == first and incremental.STATS["resolved"] == 0  # stored again


def test_an_entry_of_another_python_or_key_is_not_read(series: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """marshal's format is the interpreter's own: an entry another Python wrote (another
    bytecode tag or marshal version) is absent, as is one of another key."""
    first = new_process(series)
    monkeypatch.setattr(storedform, "TAG", "cpython-399-marshal9")
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    (entry,) = entries(series)
    assert entry.read_bytes().partition(b"\n")[2].startswith(b"cpython-399-marshal9 ")
    monkeypatch.undo()
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    assert new_process(series) == first and incremental.STATS["resolved"] == 0
    signed(entry, "another key", split_entry(entry)[2])
    assert new_process(series) == first and incremental.STATS["resolved"] > 0


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


def round_trip(value: object) -> object:
    return storedform.decode(marshal.loads(marshal.dumps(storedform.encode(value))))


def test_every_kind_of_value_round_trips() -> None:
    from storyboard.errors import Diagnostic, Span
    problems = [Diagnostic(Span("a.yaml", 1, 2), "a warning", "warning", "line", "code")]
    user = {"@d": [[1, 2]], 3: (Path("/x"), ("a", [1.5, None, True])), "@t": (), "k": [0, "x"]}
    manifest = Manifest(title="T", name="n", root=Path("/r"), source=Path("/r/s.yaml"),
                        episodes=[], provider=user, store=["@r", {"@t": 0}, (0, "a path?")])
    entry = [manifest, problems, [("/m.png", "abc"), ("/gone.png", None)]]
    again = round_trip(entry)
    assert again == entry
    assert again[0].provider[3][0] == Path("/x") and again[0].store[2] == (0, "a path?")
    with pytest.raises(TypeError):
        storedform.encode([manifest, [object()], []])
    with pytest.raises(ValueError):  # a plain field (stored as it is) of what marshal cannot hold
        marshal.dumps(storedform.encode(replace_canonical(Path("/x"))))


def replace_canonical(value: object) -> object:
    from storyboard.language.request import CompiledShot, ShotRequest
    request = ShotRequest(model="m", prompt="p", media=(), resolution="720P", ratio="16:9",
                          duration=5, prompt_extend=None, watermark=False)
    return CompiledShot(series="s", episode="e", id="i", request=request, hash="h",
                        canonical={"file": value})


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
    data = marshal.dumps(storedform.encode(manifest))
    assert data.count(b"mia.png") == 2 and data.count(b"mia.wav") == 1  # an equal one apart
    again = storedform.decode(marshal.loads(data))
    assert again == manifest
    found = again.provider["items"]
    assert found[0].ref is found[1].ref is again.store[1] and found[2] is found[3]
    assert found[5] == {"@t": said} and found[4] is not found[0].ref


def test_a_reference_s_item_is_one_object_for_the_shots_that_name_it(series: Path) -> None:
    """Each reference's media item is made once and shared by the shots naming it alike (frozen),
    so each entry stores it once; read back by a new process it is one object again, and equal."""
    def items(manifest: Manifest, episode: int | None = None) -> list[object]:
        return [item for shot in manifest.episode_shots() for item in shot.request.media
                if item.character == "sam" and episode in (None, int(shot.episode[-1]))]

    shutil.rmtree(series / ".storyboard", ignore_errors=True)
    made = new_process(series)
    assert len(items(made)) > 2 and len({id(i) for i in items(made)}) == len(set(items(made)))
    shutil.rmtree(series / ".storyboard" / "checked")
    read = new_process(series)  # each episode read back from its own entry
    assert episodecache.STATS["read"] == 2 and read == made
    for episode in (0, 1):
        assert len({id(i) for i in items(read, episode)}) == len(set(items(read, episode)))


# --- entries bound to this machine: edited, copied, nested deep --------------------------------


def episode_entries(root: Path) -> list[Path]:
    return sorted((root / ".storyboard" / episodecache.FOLDER).glob("*.entry"))


@pytest.mark.parametrize("which", ["series", "episode"])
def test_an_entry_edited_in_place_is_only_a_miss(series: Path, which: str) -> None:
    """The series' entry holds the cast; each episode is read from its own entry."""
    first = new_process(series)
    entry = entries(series)[0] if which == "series" else episode_entries(series)[0]
    mac, key, data = split_entry(entry)
    shown = first.cast[0] if which == "series" else first.episodes[0].shots[0]
    said = shown.request.prompt.encode()
    assert said in data
    other = b"a prompt nobody wrote"[:len(said)].ljust(len(said), b"!")
    body = f"{storedform.TAG} {key}\n".encode() + zlib.compress(data.replace(said, other, 1))
    entry.write_bytes(mac + body)
    again = new_process(series)  # its key kept, its signature no longer its own
    assert again == first and incremental.STATS["resolved"] > 0
    assert again.cast[0].request.prompt == first.cast[0].request.prompt
    assert again.episodes[0].shots[0].request.prompt == first.episodes[0].shots[0].request.prompt


@pytest.mark.parametrize("change", ["gone", "another"])
def test_an_episode_read_from_its_own_entry_gone_or_changed_compiles_anew(
        series: Path, change: str) -> None:
    """The series' entry names each episode's own entry (its key and file): each compiled
    episode is stored once. That entry gone, or holding another episode since, is a miss."""
    first = new_process(series)
    (entry,) = entries(series)
    assert first.episodes[0].shots[0].request.prompt.encode() not in split_entry(entry)[2]
    one, two = episode_entries(series)
    if change == "gone":
        one.unlink()
    else:
        storedform.write(one, split_entry(one)[1], two.read_bytes().partition(b"\n")[2]
                         .partition(b"\n")[2])  # the other episode's data under its key
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    assert new_process(series) == first and incremental.STATS["resolved"] == 0


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
    key = split_entry(entry)[1]
    # marshal's bytes for a list in a list ... 100,000 deep (marshal writes no such thing)
    deep = b"[\x01\x00\x00\x00" * 100_000 + b"N"

    def plant() -> None:
        if sign:
            signed(entry, key, deep)
        else:
            entry.write_bytes(f"{storedform.TAG} {key}\n".encode() + zlib.compress(deep))

    plant()
    assert new_process(series) == first and incremental.STATS["resolved"] > 0
    for command in (["check"], ["plan"], ["status"]):
        plant()
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
    """A season's compiled form is ten times its series' own files: kept compressed on disk."""
    first = new_process(series)
    for entry in [*entries(series), *episode_entries(series)]:
        data = split_entry(entry)[2]
        assert marshal.loads(data) and entry.stat().st_size * 2 < len(data)
    assert new_process(series) == first and incremental.STATS["resolved"] == 0


def test_a_value_that_holds_itself_is_not_stored(series: Path, tmp_path: Path) -> None:
    """No cycle check in the encoder: a value that holds itself (the compiler makes none) is a
    RecursionError, let be like any value marshal cannot hold: nothing stored, no traceback."""
    manifest = new_process(series)
    looped = Manifest(title="T", name="n", root=Path("/r"), source=Path("/r/s.yaml"),
                      episodes=[])
    looped.cast.append(looped)  # type: ignore[arg-type]
    file = tmp_path / "entry.entry"
    checkcache.write(("key", file), checkcache.Entry(looped, [], {}))
    assert not file.exists()
    checkcache.write(("key", file), checkcache.Entry(manifest, [], {}))
    assert file.exists()  # the test can tell: a value that holds nothing is stored there

