"""Ark portraits storyboard makes (issue 69.2): ``identity: {ark: {asset: make}}``.

A character whose sheet storyboard drew from words gets a portrait made in (emulated) Ark's asset
library, on its signed control plane: planned and priced (0.00, unverified), journaled, made once
(a second render makes none; a render stopped between CreateAsset and Active resumes it, never
creating another), its id in the lock, and sent as ``asset://ID`` where its sheet's URL went
(golden body in ``tests/golden/seedance-portrait.json``; ``STORYBOARD_WRITE_GOLDEN=1`` rewrites
it). A face named by a file is refused at its line; an account without the add-on, a wrong secret
and unset variables are clear errors that print no key; each key reaches only its own host.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.errors import ProblemsFound
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.providers.gateway.settings import GatewaySettings
from storyboard.targets.cast.arkassets import LIBRARIES, picture_problem
from storyboard.targets.signatures import volcsign
from storyboard.targets.video.models import SEEDANCE_20_ARK, SEEDANCE_20_MODELARK
from tests.fixtures.dashscope_cli import child_env, kill, wait_until
from tests.fixtures.gateway_runs import quick_render
from tests.fixtures.media_host import POLL, Handler

ARK_KEY = "ark-canary-key-5151"
ACCESS = "AKLTcanaryaccess77"
SECRET = "canary-secret-access-key-9090"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "seedance-portrait.json"
SERIES = """\
storyboard: 1
title: Portraits
defaults: {resolution: 720P, ratio: "16:9", duration: 4, model: MODEL}
provider: {name: ark, base_url: 'BASE', media_base_url: 'HOSTED', assets_url: 'ASSETS', poll: [0.1]}
output: {loudness: null}
characters:
  mia:
    image: {generate: "a barista in her thirties, short dark hair, green apron"}
    identity: {ark: {asset: make}}
episodes:
  - id: ep01
    shots:
      - {id: one, prompt: "@mia waves at the window"}
"""


def series(root: Path, *, base: str = "https://ark.example.com/api/v3",
           hosted: str = "https://media.example.com", assets: str = "https://open.example.com"
           ) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = (SERIES.replace("MODEL", SEEDANCE_20_ARK.id).replace("BASE", base)
            .replace("HOSTED", hosted).replace("ASSETS", assets))
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


def line_of(root: Path, needle: str) -> int:
    text = (root / "storyboard.yaml").read_text(encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


# -- check, at the line ----------------------------------------------------------------------------

def test_a_sheet_drawn_from_words_compiles_to_a_portrait_the_shot_waits_for(tmp_path: Path) -> None:
    root = series(tmp_path / "s")
    manifest, problems = compile_lenient(load_source(root), provider="ark")
    assert [p.message for p in problems if p.severity == "error"] == []
    assert not [p for p in problems if p.code == "identity-faces"]  # it goes as a portrait
    [portrait] = [a for a in manifest.cast if a.episode == "portraits"]
    [sheet] = [a for a in manifest.cast if a.episode == "cast"]
    assert portrait.asset is not None and portrait.asset.kind == "portrait"
    assert portrait.asset.model == LIBRARIES["ark"].model
    assert portrait.needs == {"cast/mia": sheet.hash}
    [shot] = manifest.episodes[0].shots
    assert [(m.role, m.ref.asset if m.ref else None) for m in shot.request.media] == [
        ("reference_image", "portraits/mia")]
    assert shot.needs == {"portraits/mia": portrait.hash}
    manifest, _ = compile_lenient(load_source(root), provider="dashscope")  # no Ark: none made
    assert not [a for a in manifest.cast if a.episode == "portraits"]


def test_a_portrait_without_a_public_url_for_its_sheet_is_refused(tmp_path: Path) -> None:
    root = series(tmp_path / "s")
    path = root / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "media_base_url: 'https://media.example.com', ", ""), encoding="utf-8")
    _, problems = compile_lenient(load_source(root), provider="ark")
    [found] = [p for p in problems if "portraits/mia" in p.message]
    assert found.severity == "error" and found.message.startswith(
        "portraits/mia is made in ark's asset library from the character's sheet, which the "
        "vendor fetches from a public URL: set provider.media_base_url")


@pytest.mark.parametrize(("image", "message"), [
    ("image: media/mia.png", "a real person's face goes through the vendor's own liveness "
     "verification, which storyboard cannot perform; expected a sheet drawn from words"),
    ('image: {generate: "a barista", refs: [media/mia.png]}', "drawn from pictures (refs) that "
     "may show a real person, to the vendor's asset library, and this character declares no "
     "permission; expected identity.permission"),
])
def test_a_face_that_may_be_a_real_person_s_is_refused_at_its_line(
        tmp_path: Path, make_media: Any, image: str, message: str) -> None:
    root = series(tmp_path / "s")
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    path = root / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'image: {generate: "a barista in her thirties, short dark hair, green apron"}', image),
        encoding="utf-8")
    _, problems = compile_lenient(load_source(root), provider="ark")
    [found] = [p for p in problems if "asset: make" in p.message and p.code != "identity-faces"]
    assert found.severity == "error" and message in found.message, found.message
    assert found.span is not None and found.span.line == line_of(root, "asset: make")


# -- the signature ---------------------------------------------------------------------------------

def test_a_signature_holds_only_for_its_secret_body_and_region() -> None:
    body = b'{"Id":"asset-1"}'
    query = {"Action": "GetAsset", "Version": "2024-01-01"}
    signed = volcsign.signed_headers(ACCESS, SECRET, method="POST", host="open.example.com",
                                     path="/", query=query, body=body, region="cn-beijing",
                                     service="ark", now=1_790_000_000)
    assert SECRET not in json.dumps(signed)
    assert signed["Authorization"].startswith(
        f"HMAC-SHA256 Credential={ACCESS}/20260921/cn-beijing/ark/request, "
        "SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=")
    headers = {k.lower(): v for k, v in signed.items()} | {"host": "open.example.com"}
    check = partial(volcsign.verify, method="POST", path="/", query=query, service="ark",
                    now=1_790_000_000)
    assert check(headers, body=body, secret=SECRET, region="cn-beijing") == ACCESS
    assert check(headers, body=body, secret="another", region="cn-beijing") is None
    assert check(headers, body=b'{"Id":"asset-2"}', secret=SECRET, region="cn-beijing") is None
    assert check(headers, body=body, secret=SECRET, region="ap-southeast-1") is None


# -- end to end, through the CLI --------------------------------------------------------------------

class Recording(Handler):
    """The media host, recording every header value that reaches it."""

    def parse_request(self) -> bool:
        ok = super().parse_request()
        self.server.seen.extend(f"{k}: {v}" for k, v in self.headers.items())  # type: ignore[attr-defined]
        return ok


@contextmanager
def media_host(folder: Path) -> Iterator[tuple[str, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Recording, directory=str(folder)))
    server.ranged = True  # type: ignore[attr-defined]
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


class Heard:
    """The emulator's ASGI app, wrapped: each request's host, path and header values."""

    def __init__(self, app: Any) -> None:
        self.app, self.service = app, app.service
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.seen.append((headers.get("host", ""), scope["path"], headers))
        await self.app(scope, receive, send)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """One emulator for DashScope (the sheet), Ark (the shot) and Ark's control plane (the
    portrait); the control plane verifies signatures with the account's secret."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", ARK_KEY)
    monkeypatch.setenv("ARK_API_KEY", ARK_KEY)
    monkeypatch.setenv("VOLC_ACCESSKEY", ACCESS)
    monkeypatch.setenv("VOLC_SECRETKEY", SECRET)
    monkeypatch.setenv("CI", "1")
    server = EmulatorServer(latency=0.2, api_key=ARK_KEY, asset_secret=SECRET,
                            render=quick_render, fetch_media=True, plain_results=True)
    server.app = Heard(server.app)  # type: ignore[assignment]
    with server:
        monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
        yield server


def made(emu: EmulatorServer) -> int:
    """How many assets the emulator's control plane created."""
    return int(emu.stats()["cast"]["requests"]["portrait"])


def with_sheet(root: Path, emu: EmulatorServer, hosted: str, *, assets: str = "") -> Path:
    """The series on the emulator, its sheet made on DashScope first (the file the portrait is
    made from); the sheet's file is what the emulator's Seedance takes for a real person."""
    series(root, base=emu.gateway_url("ark"), hosted=hosted,
           assets=assets or emu.origin + "/volc/ark")
    # DashScope sells no Seedance model, yet makes the cast: --shot names the cast alone
    drawn = invoke("render", root, "--provider", "dashscope", "cast/*", "--yes")
    assert drawn.exit_code == 0, drawn.output
    manifest, _ = compile_lenient(load_source(root), provider="ark")
    [sheet] = [a for a in manifest.cast if a.episode == "cast"]
    emu.service.config = replace(emu.service.config, real_faces=(sheet.hash,))
    return root


def test_a_render_makes_the_portrait_once_and_sends_asset_id(
        tmp_path: Path, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    control = emu.origin.replace("127.0.0.1", "localhost")  # another host: its own keys only
    with media_host(tmp_path) as (hosted, media_heard):
        with_sheet(root, emu, f"{hosted}/s", assets=control + "/volc/ark")
        planned = invoke("plan", root, "--json")
        first = invoke("render", root, "--yes", "--json")
        again = invoke("render", root, "--yes", "--json")
    assert planned.exit_code == 0 and first.exit_code == 0, first.output
    rows = {r["key"].split("/", 1)[1]: r for r in json.loads(planned.stdout)["shots"]}
    assert rows["portraits/mia"]["cost"] == 0.0 and rows["portraits/mia"]["status"] == "new", rows
    assert made(emu) == 1  # asked again: cached, nothing made twice
    [task] = emu.service.table.tasks.values()
    assert task.wire is not None
    [asset] = [i["image_url"]["url"] for i in task.wire["content"] if i["type"] == "image_url"]
    assert asset.startswith("asset://asset-")  # not the sheet's URL, which would be refused
    lock = (root / "storyboard.lock").read_text(encoding="utf-8")
    assert f'"task_id": "portrait-{asset.removeprefix("asset://")}"' in lock
    assert json.loads(again.stdout)["spent"] == 0
    body = json.loads(json.dumps(task.wire).replace(asset, "asset://ID"))
    text = json.dumps(body, indent=2, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    heard: Heard = emu.app  # type: ignore[assignment]
    own = [(path, h) for host, path, h in heard.seen if host.startswith("localhost:")]
    ark = [(path, h) for host, path, h in heard.seen if host.startswith("127.0.0.1:")]
    assert own and all(path.startswith("/volc/ark") for path, _ in own)
    assert all(h["authorization"].startswith("HMAC-SHA256 ") and ARK_KEY not in str(h)
               for _, h in own)  # the Ark key never goes to the control plane
    assert ark and not any(ACCESS in str(h) or "HMAC" in str(h) for _, h in ark)
    assert media_heard and not any(key in said for said in media_heard
                                   for key in (ARK_KEY, ACCESS, "HMAC", "uthorization"))
    assert not any(SECRET in str(h) for _, _, h in heard.seen)  # only its signatures travel


def test_a_render_killed_before_the_portrait_is_active_resumes_it_without_another(
        tmp_path: Path, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    with media_host(tmp_path) as (hosted, _):
        with_sheet(root, emu, f"{hosted}/s")
        emu.service.config = replace(emu.service.config, latency=600.0)  # Processing a while
        child = subprocess.Popen([sys.executable, "-m", "storyboard", "render", str(root),
                                  "--yes"], env=child_env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        wait_until("the portrait is created and polled", lambda: made(emu) == 1 and
                   emu.service.stats.requests.get("portrait-query", 0) >= 1, child)
        kill(child)  # between CreateAsset and Active: its id journaled, nothing else
        assert not emu.service.table.tasks
        emu.service.config = replace(emu.service.config, latency=0.2)  # now Active
        resumed = invoke("render", root, "--yes", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert made(emu) == 1  # polled again by its id (GetAsset), never created again
    [task] = emu.service.table.tasks.values()
    assert task.wire is not None and "asset://asset-" in json.dumps(task.wire)


def test_an_account_without_the_add_on_is_told_to_subscribe(
        tmp_path: Path, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    with media_host(tmp_path) as (hosted, _):
        with_sheet(root, emu, f"{hosted}/s")
        emu.service.config = replace(emu.service.config, asset_library=False)
        result = invoke("render", root, "--yes", "--json")
    assert result.exit_code != 0
    said = {s["key"].split("/", 1)[1]: s for s in json.loads(result.stdout)["shots"]}
    message = said["portraits/mia"]["message"]
    assert "SubscriptionRequired" in message and "Advanced Creation Rights" in message
    assert "subscribe to it in the ark console" in message and "the keys are fine" in message
    assert made(emu) == 0 and not emu.service.table.tasks  # nothing sent, nothing paid
    assert SECRET not in result.output and ACCESS not in result.output


def test_a_wrong_secret_is_refused_by_the_signature_and_no_key_is_printed(
        tmp_path: Path, emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "s"
    with media_host(tmp_path) as (hosted, _):
        with_sheet(root, emu, f"{hosted}/s")
        monkeypatch.setenv("VOLC_SECRETKEY", "not-the-account-secret-31337")
        result = invoke("render", root, "--yes")
    assert result.exit_code != 0
    assert "SignatureDoesNotMatch" in result.output, result.output
    assert "check VOLC_ACCESSKEY and VOLC_SECRETKEY" in " ".join(result.output.split())
    for key in ("not-the-account-secret-31337", SECRET, ACCESS, ARK_KEY):
        assert key not in result.output
    assert made(emu) == 0 and not emu.service.table.tasks


def test_plan_refuses_a_portrait_without_the_key_pair_before_anything_is_sent(
        tmp_path: Path, emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "s"
    with media_host(tmp_path) as (hosted, _):
        with_sheet(root, emu, f"{hosted}/s")
        monkeypatch.delenv("VOLC_SECRETKEY")
        planned = invoke("plan", root)
        result = invoke("render", root, "--yes")
    assert "made by ark with its own key" not in planned.output  # ark makes it: not elsewhere
    for said in (planned.output, result.output):
        text = " ".join(said.split())
        assert "VOLC_SECRETKEY is not set" in text and "provider.secret_key_env" in text, said
        assert f"storyboard.yaml:{line_of(root, 'asset: make')}:" in said, said  # at make
    assert result.exit_code != 0
    assert made(emu) == 0 and emu.service.stats.requests.get("portrait-groups", 0) == 0


def test_modelark_makes_its_own_portrait_on_byteplus_s_control_plane(
        tmp_path: Path, emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """ModelArk's table: its own variables, region (ap-southeast-1, in the signature the
    emulator checks) and library; an Ark portrait is not a ModelArk one."""
    monkeypatch.setenv("MODELARK_API_KEY", ARK_KEY)
    monkeypatch.setenv("BYTEPLUS_ACCESSKEY", ACCESS)
    monkeypatch.setenv("BYTEPLUS_SECRETKEY", SECRET)
    monkeypatch.delenv("VOLC_SECRETKEY")  # not read on modelark
    root = tmp_path / "s"
    with media_host(tmp_path) as (hosted, _):
        with_sheet(root, emu, f"{hosted}/s", assets=emu.origin + "/volc/modelark")
        path = root / "storyboard.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("name: ark", "name: modelark")
                        .replace(emu.gateway_url("ark"), emu.gateway_url("modelark"))
                        .replace("{ark: {asset: make}}", "{modelark: {asset: make}}")
                        .replace(SEEDANCE_20_ARK.id, SEEDANCE_20_MODELARK.id), encoding="utf-8")
        result = invoke("render", root, "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert made(emu) == 1
    [task] = emu.service.table.tasks.values()
    assert task.wire is not None and task.wire["model"] == SEEDANCE_20_MODELARK.id
    assert "asset://asset-" in json.dumps(task.wire)
    lock = (root / "storyboard.lock").read_text(encoding="utf-8")
    assert '"task_id": "portrait-asset-' in lock and LIBRARIES["modelark"].model in lock


def test_a_create_whose_answer_was_lost_is_never_sent_again_by_itself(
        tmp_path: Path, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    with media_host(tmp_path) as (hosted, _):
        with_sheet(root, emu, f"{hosted}/s")
        emu.script("portrait:lost")  # made and counted in the library; its answer never arrives
        first = invoke("render", root, "--yes", "--json")
        again = invoke("render", root, "--yes", "--json")
    assert first.exit_code != 0 and again.exit_code != 0, again.output
    assert made(emu) == 1  # the asset may exist: stopped, not made a second time
    assert not emu.service.table.tasks  # the shot that needs it waits, unpaid
    said = {s["key"].split("/", 1)[1]: s for s in json.loads(again.stdout)["shots"]}
    assert "no list of its assets is known" in said["portraits/mia"]["message"], said


# Issue 83, item 9: a shot waiting on such a portrait names the portrait's own settle commands

def pasted(message: str, command: str) -> list[str]:
    """The arguments of the ``storyboard task COMMAND ...`` a message names, as pasted."""
    start = message.index(f"`storyboard task {command} ")
    return shlex.split(message[start + 1:message.index("`", start + 1)])[1:]


def test_a_shot_blocked_on_a_lost_portrait_names_the_portraits_own_settle_commands(
        tmp_path: Path, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    with media_host(tmp_path) as (hosted, _):
        with_sheet(root, emu, f"{hosted}/s")
        emu.script("portrait:lost")  # made and counted in the library; its answer never arrives
        assert invoke("render", root, "--yes", "--json").exit_code != 0
        again = invoke("render", root, "--yes", "--json")
        said = {s["key"].split("/", 1)[1]: s["message"] for s in json.loads(again.stdout)["shots"]}
        blocked = said["ep01/one"]
        assert "--shot portraits/mia" not in blocked, blocked  # a render does not settle it
        assert pasted(blocked, "adopt") == ["task", "adopt", str(root), "portraits/mia",
                                            "portrait-ASSET_ID"], blocked
        assert pasted(blocked, "forget") == ["task", "forget", str(root), "portraits/mia"]
        assert "no later run can settle it by itself" in said["portraits/mia"]
        assert "next run asks again" not in said["portraits/mia"]
        state = emu.app.app.state  # type: ignore[attr-defined]  # under the Heard wrapper
        [asset] = [a.id for held in state.asset_libraries.values() for a in held.assets.values()]
        adopted = invoke(*[word.replace("ASSET_ID", asset) for word in pasted(blocked, "adopt")])
        assert adopted.exit_code == 0, adopted.output
        done = invoke("render", root, "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert made(emu) == 1  # the lost create adopted, never made a second time
    [task] = emu.service.table.tasks.values()
    assert task.wire is not None and f"asset://{asset}" in json.dumps(task.wire)


def test_the_library_settings_belong_to_ark_and_modelark_and_name_variables() -> None:
    own = GatewaySettings.from_mapping(DIALECTS["modelark"], {"secret_key_env": "MY_SK"},
                                       environ={"MODELARK_ASSETS_URL": "http://127.0.0.1:9/v"})
    assert own.library == {"assets_url": "http://127.0.0.1:9/v",
                           "access_key_env": "BYTEPLUS_ACCESSKEY", "secret_key_env": "MY_SK"}
    with pytest.raises(ProblemsFound) as refused:
        GatewaySettings.from_mapping(DIALECTS["kling"], {"access_key_env": "VOLC_ACCESSKEY"},
                                     environ={})
    assert "provider.access_key_env: kling has no asset library" in refused.value.format()
    with pytest.raises(ProblemsFound) as refused:
        GatewaySettings.from_mapping(DIALECTS["ark"], {"secret_key_env": "not a name",
                                                       "assets_url": "ftp://x"}, environ={})
    assert "provider.secret_key_env: 'not a name' is not a variable's name" in refused.value.format()
    assert "provider.assets_url: 'ftp://x' is not an http(s) URL" in refused.value.format()


@pytest.mark.parametrize(("size", "problem"), [
    ((2048, 1152, 4_000_000), ""),
    ((2048, 1152, 31 * 1024 * 1024), "31.0 MB, not under 30 MB"),
    ((300, 600, 1000), "300x600 px, each side not between 300 and 6000 px"),
    ((4000, 1000, 1000), "4000x1000 px, its aspect not between 0.4 and 2.5"),
])
def test_the_sheet_is_held_to_the_library_s_limits(size: tuple[int, int, int],
                                                    problem: str) -> None:
    assert picture_problem(*size) == problem


def test_dashscope_makes_the_cast_of_a_seedance_series_but_never_its_shots(
        tmp_path: Path, emu: EmulatorServer) -> None:
    """docs/cast.md: the cast is made with --provider dashscope, then the shots on the gateway.
    A --shot that names a video shot is still refused at the model's line, nothing sent."""
    root = series(tmp_path / "s", base=emu.gateway_url("ark"), hosted="https://m.example.com")
    refused = invoke("render", root, "--provider", "dashscope", "ep01/one", "--yes")
    assert refused.exit_code == 1
    assert f"dashscope does not sell {SEEDANCE_20_ARK.id}" in refused.output
    assert emu.stats()["submissions"]["total"] == 0 and emu.stats()["cast"]["images"] == 0
    drawn = invoke("render", root, "--provider", "dashscope", "cast/*", "--yes")
    assert drawn.exit_code == 0, drawn.output
    assert emu.stats()["cast"]["images"] == 1 and emu.stats()["submissions"]["total"] == 0
