"""Status words into safe polling: every target knows every gateway's synonyms, and a word nobody
declared never finishes a task nor allows a new submit (issue 21.1), end to end on the emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.dialects.base import Dialect, put
from storyboard.emulator import EmulatorServer
from storyboard.emulator.faults import FaultSyntaxError, parse_fault
from storyboard.emulator.unwire import answer
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, Mention, ShotRequest, write
from storyboard.media import samples
from storyboard.providers.base import Provider
from storyboard.providers.dashscope.provider import DashScopeProvider
from storyboard.providers.dashscope.settings import DashScopeSettings
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.run import render
from storyboard.run.state.journal import Journal
from storyboard.run.trip.model import RunOptions, RunResult, ShotEvent, Wiring
from storyboard.targets import NATIVE_SIZES, Limits, TaskStatus
from storyboard.targets.gateways import SYNONYMS, TARGETS
from storyboard.targets.models import model_of

KEY = "words-test-key-321"
NOBODY = "frobnicating"  # a word no target declares
MIA = Mention("mia", "image", 1)


def vocabulary(dialect: Dialect) -> Mapping[str, TaskStatus]:
    own = dict(dialect.words) or dict(dialect.protocol.statuses)
    return {**own, **{w.lower(): s for w, s in own.items()}}


def answer_with(dialect: Dialect, word: str) -> dict[str, Any]:
    out = answer(dialect, "t-1", TaskStatus.RUNNING)
    put(out, dialect.answers.status, word)
    return json.loads(json.dumps(out))


@pytest.mark.parametrize("reader", sorted(DIALECTS))
@pytest.mark.parametrize("writer", sorted(DIALECTS))
def test_every_dialect_reads_every_word_of_every_other_dialect(reader: str, writer: str) -> None:
    """Each word means the same everywhere: a gateway that says another's word is understood."""
    for word, meant in vocabulary(DIALECTS[writer]).items():
        state = DIALECTS[reader].task_state(answer_with(DIALECTS[reader], word))
        assert state.status is meant, (reader, writer, word)


@pytest.mark.parametrize("name", sorted(DIALECTS))
@pytest.mark.parametrize("word", [NOBODY, "unknown", "UNKNOWN", "", "done?"])
def test_a_word_nobody_declared_stays_unknown_and_is_named(name: str, word: str) -> None:
    state = DIALECTS[name].task_state(answer_with(DIALECTS[name], word))
    assert state.status is TaskStatus.UNKNOWN and not state.status.finished
    assert repr(word) in state.message


def test_the_synonyms_cover_the_five_states_and_unknown_is_none_of_them() -> None:
    assert set(SYNONYMS.values()) >= {TaskStatus.PENDING, TaskStatus.RUNNING,
                                      TaskStatus.SUCCEEDED, TaskStatus.FAILED,
                                      TaskStatus.CANCELED}
    assert "unknown" not in SYNONYMS and TaskStatus.UNKNOWN not in SYNONYMS.values()
    for target in TARGETS.values():
        for word in ("pending", "cancelled", "canceled", "processing", "completed", "succeeded",
                     "in_progress", "queued", "created"):
            assert target.protocol.status(word)[0] is SYNONYMS[word], (target.name, word)


def test_the_status_fault_takes_a_word() -> None:
    fault = parse_fault("query:status=in_review")
    assert (fault.kind, fault.word, str(fault)) == ("status", "in_review", "query:status=in_review")
    for bad in ("query:status", "query:status=", "submit:status=x", "query:status=a{b}"):
        with pytest.raises(FaultSyntaxError):
            parse_fault(bad)


# -- end to end --------------------------------------------------------------------------------


def quick_render(body: dict[str, Any], out: Path, *, media: Mapping[str, Path] | None = None,
                 plain: bool = False) -> None:
    params = body["parameters"]
    model = model_of(str(body["model"]))
    sizes = {**NATIVE_SIZES, **(model.caps.sizes if model else {})}
    width, height = sizes[(params["resolution"], params.get("ratio", "16:9"))]
    samples.video(out, width // 4 * 2, height // 4 * 2, seconds=float(params["duration"]))


def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An emulator for every dialect, with every key variable set (other test files use it)."""
    for name in GATEWAYS:
        monkeypatch.setenv(DIALECTS[name].key_env, KEY)
        if DIALECTS[name].secret_env:  # a key pair: the emulator checks tokens with its key
            monkeypatch.setenv(DIALECTS[name].secret_env, KEY)
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    with EmulatorServer(latency=0.2, api_key=KEY, render=quick_render) as server:
        yield server


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


def a_shot(root: Path, make_media: Any, words: str = " waves hello") -> CompiledShot:
    image = make_media("image", root / "media" / "mia.png")
    tokens = (MIA, words)
    request = ShotRequest(
        model="wan2.7-r2v", prompt=write(tokens), tokens=tokens, resolution="720P",
        ratio="16:9", duration=2, prompt_extend=False, watermark=False,
        media=(MediaItem("reference_image", MediaRef(path=image), "Image 1", "mia"),))
    return CompiledShot("s", "ep01", "a", request, "a1" * 32)


def sold_by(shot: CompiledShot, name: str) -> CompiledShot:
    """``shot`` on a model the dialect ``name`` sells (its first, if not wan2.7-r2v), at least
    as long as that target's shortest shot."""
    target = TARGETS[name]
    model = shot.request.model if shot.request.model in target.models else target.models[0]
    duration = max(shot.request.duration, target.limits.min_duration)
    extend = shot.request.prompt_extend if model == shot.request.model else None
    return replace(shot, request=fitted(replace(shot.request, model=model, duration=duration,
                                                prompt_extend=extend), target.limits))


def fitted(request: ShotRequest, limits: Limits) -> ShotRequest:
    """``request`` at a resolution the target renders, its pictures as first frames where it
    takes no reference (MiniMax's Hailuo)."""
    resolution = request.resolution if request.resolution in limits.resolutions \
        else limits.resolutions[0]
    media = request.media if limits.max_references else tuple(
        replace(m, role="first_frame") for m in request.media)
    return replace(request, resolution=resolution, media=media)


def provider_for(emu: EmulatorServer, name: str, root: Path) -> Provider:
    if name == "dashscope":
        return DashScopeProvider(DashScopeSettings(base_url=emu.base_url))
    settings = {"base_url": emu.gateway_url(name), "media_base_url": "https://cdn.example.com/s"}
    return GatewayProvider.from_settings(DIALECTS[name], settings, root)


def run(emu: EmulatorServer, name: str, root: Path, shot: CompiledShot,
        events: list[ShotEvent], **options: Any) -> RunResult:
    """``shot`` rendered by ``name`` (on the provider's own model and shortest length when it
    does not sell the shot's: Seedance's hosts)."""
    sold = DIALECTS[name].models if name in DIALECTS else ()
    if sold and shot.request.model not in sold:
        shot = replace(shot, request=fitted(replace(
            shot.request, model=sold[0],
            duration=max(shot.request.duration, DIALECTS[name].limits.min_duration)),
            DIALECTS[name].limits))

    async def go() -> RunResult:
        provider = provider_for(emu, name, root)
        try:
            return await render([shot], provider,
                                RunOptions(poll_schedule=(0.1,), backoff_cap=0.4, **options),
                                Wiring(series_dir=root, on_event=events.append))
        finally:
            await provider.aclose()
    return asyncio.run(go())


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_an_unknown_word_is_polled_on_until_the_task_finishes(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, name: str) -> None:
    shot = sold_by(a_shot(tmp_path, make_media), name)
    emu.script(f"query:status={NOBODY}*3")
    events: list[ShotEvent] = []
    result = run(emu, name, tmp_path, shot, events)
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert emu.stats()["submissions"]["total"] == 1 and result.submits == 1
    said = [e.message for e in events if NOBODY in e.message]
    assert len(said) == 1 and "never submitting again" in said[0]


@pytest.mark.parametrize("name", ["dashscope", "freepik", "roles"])
def test_a_lasting_unknown_word_stops_as_ambiguous_and_the_next_run_polls_it(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, name: str) -> None:
    shot = a_shot(tmp_path, make_media)
    emu.add_rate(f"query:status={NOBODY}:1")
    events: list[ShotEvent] = []
    first = run(emu, name, tmp_path, shot, events, unknown_patience=1.0)
    (only,) = first.shots
    assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
    assert only.task_id and only.task_id in only.message and NOBODY in only.message
    with Journal.open(tmp_path) as journal:
        (row,) = journal.attempts()
    assert row.state in ("submitted", "running") and row.task_id == only.task_id  # not lost
    emu.clear_faults()
    second = run(emu, name, tmp_path, shot, events)
    assert [s.state for s in second.shots] == ["done"] and second.submits == 0
    assert second.shots[0].task_id == only.task_id
    assert emu.stats()["submissions"]["total"] == 1
