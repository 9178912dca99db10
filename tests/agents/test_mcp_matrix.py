"""An agent's ``plan`` and ``render`` of a matrix take the route ``storyboard render`` takes
(issue 68, follow-up), through the official MCP SDK's client over stdio against the emulator:
the language variation of an approved base is priced and made as that base's version (its
lines and lip-sync passes, 0 video renders), held to the call's ``max_cost`` with the version
counted, and nothing is paid twice when it is asked again; a free ``local`` render of the matrix
makes drafts, never a paid version; as an MCP task alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from storyboard.emulator import EmulatorServer
from tests.fixtures.dashscope_cli import Emulator, submissions
from tests.fixtures.mcp import KEY, error, session
from tests.fixtures.mcp_tasks import agent
from tests.run.test_run_versions_matrix import MATRIX
from tests.run.test_run_versions_version import EP01, EP02, SHOTS, MakeMedia, counts, run

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment (the CLI's renders)


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    structured: dict[str, Any] = result.structured_content
    return structured


def _approved_base(root: Path, make_media: MakeMedia) -> Path:
    """The ``en`` base rendered (on the command line) and approved, the ``es`` version written."""
    series = root / "dubbed"
    make_media("image", series / "media" / "mia.png", width=480, height=480)
    make_media("image", series / "media" / "old.png", width=480, height=480)
    (series / "storyboard.yaml").write_text(MATRIX, encoding="utf-8")
    code, _, said = run("render", series, "--provider", "dashscope", "--yes", "--json",
                        "--variation", "en")
    assert code == 0, said
    for shot in SHOTS:
        code, _, said = run("approve", series, f"en/{shot}", "--force")
        assert code == 0, said
    folder = series / "languages" / "es"
    folder.mkdir(parents=True)
    (folder / "ep01.yaml").write_text(EP01, encoding="utf-8")
    (folder / "ep02.yaml").write_text(EP02, encoding="utf-8")
    return series


def test_an_agents_render_makes_the_approved_bases_language_variation_as_its_version(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server: EmulatorServer = emulator(plain_results=False, latency=0.3)
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)  # one account: its designed voices the server's
    series = _approved_base(tmp_path, make_media)
    speech, passes, submitted = counts(server)
    _, planned, refused, local = session(
        tmp_path, ("plan", {"series": "dubbed", "provider": "dashscope"}),
        ("render", {"series": "dubbed", "provider": "dashscope", "max_cost": 0.01}),
        ("render", {"series": "dubbed", "provider": "local"}),
        ceiling=5, emulator=server)
    plan = data(planned)  # as `storyboard plan --json` says it: es is en's version
    assert [v["name"] for v in plan["variations"]] == ["en"]
    version = plan["versions"][0]
    assert (version["name"], version["base"], version["language"]) == ("es", "en", "es")
    assert (version["lines"], version["passes"]) == (3, 2)
    assert 0.01 < version["cost"] < version["rerender_cost"], version
    said = error(refused)  # the version's price counts against max_cost: refused, unpaid
    assert "refused, nothing was submitted" in said and "0.01" in said, said
    assert data(local)["ok"] is True  # drafts of every variation: free, no version made
    assert counts(server) == (speech, passes, submitted)
    assert not (series / "out" / "es").exists()

    _, rendered, again = session(
        tmp_path, ("render", {"series": "dubbed", "provider": "dashscope", "max_cost": 1}),
        ("render", {"series": "dubbed", "provider": "dashscope", "max_cost": 1}),
        ceiling=5, emulator=server)
    report = data(rendered)
    assert report["ok"] is True, json.dumps(report)
    assert counts(server)[0] - speech == 3  # each line once, in its speaker's designed voice
    assert counts(server)[1] - passes == 2  # a pass over each on-screen speaker's approved take
    assert submissions(server) - submitted == 2  # the two passes: 0 video renders
    made = report["versions"][0]
    assert made["variation"] == "dubbed/es" and sorted(made["passes"]) == ["ep01/hello",
                                                                          "ep02/bye"]
    assert report["spent"] > 0 and report["submits"] == 5, report  # 3 lines and 2 passes
    for episode in ("ep01", "ep02"):  # in the variation's own folder, as the CLI makes it
        assert (series / "out" / "es" / f"{episode}.mp4").is_file()
    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))
    assert lock["shots"]["dubbed/es/ep01/hello"]["parameters"]["model"] == "videoretalk"
    second = data(again)  # asked again: nothing is paid twice
    assert second["ok"] is True and second["spent"] == 0, second
    assert submissions(server) - submitted == 2 and counts(server)[0] - speech == 3


def test_a_matrix_render_as_a_task_drafts_for_free_then_makes_the_version(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same route for a client that takes ``render`` as an MCP task: its quote (the local
    drafts' rows, the paid version's price) and its run."""
    from tests.fixtures.mcp_models import TaskHandle

    server: EmulatorServer = emulator(plain_results=False, latency=0.3)
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    series = _approved_base(tmp_path, make_media)
    speech, passes, submitted = counts(server)

    async def run() -> list[Any]:
        async with agent(tmp_path, ceiling=5, emulator=server) as client:
            ended = []
            for arguments in ({"series": "dubbed", "provider": "local"},
                              {"series": "dubbed", "provider": "dashscope", "max_cost": 1}):
                handle = await client.call("render", arguments)
                assert isinstance(handle, TaskHandle), handle
                ended.append(await client.until(handle.task_id,
                                                lambda task: task.status != "working"))
            return ended

    drafted, dubbed = anyio.run(run)
    assert [t.status for t in (drafted, dubbed)] == ["completed"] * 2
    assert drafted.result["structuredContent"]["spent"] == 0
    made = dubbed.result["structuredContent"]
    assert made["ok"] is True and made["versions"][0]["variation"] == "dubbed/es", made
    assert counts(server)[0] - speech == 3 and counts(server)[1] - passes == 2
    assert submissions(server) - submitted == 2  # the two passes: 0 video renders
    assert (series / "out" / "es" / "ep01.mp4").is_file()


def test_a_matrix_is_not_queued_and_the_refusal_names_what_renders_it(
        tmp_path: Path, make_media: MakeMedia) -> None:
    """``render`` with ``queue: true`` takes no matrix, and neither does ``storyboard queue
    render``: the refusal names neither as a way to queue it, but what does take it (a ``render``
    call without ``queue``, ``storyboard render``), and that call renders it."""
    series = tmp_path / "dubbed"
    make_media("image", series / "media" / "mia.png", width=480, height=480)
    make_media("image", series / "media" / "old.png", width=480, height=480)
    (series / "storyboard.yaml").write_text(MATRIX, encoding="utf-8")
    _, queued, here = session(
        tmp_path, ("render", {"series": "dubbed", "provider": "dashscope", "max_cost": 1,
                              "queue": True}),
        ("render", {"series": "dubbed"}))
    said = error(queued)
    assert "variations matrix" in said and "is not queued" in said, said
    assert "queue render SERIES` queues" not in said, said
    assert "`render` call without `queue`" in said and "`storyboard render SERIES`" in said
    assert data(here)["ok"] is True  # what it names renders the matrix here (local: drafts)
    code, _, refused = run("queue", "render", series, "--provider", "dashscope", "--yes")
    assert code == 1 and "a variations matrix is not queued" in refused, refused
