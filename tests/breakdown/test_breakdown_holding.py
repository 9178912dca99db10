"""Whether an endpoint holds the schema it takes, probed (issue 98, item 3): a free endpoint on
loopback is asked once a mode, free, for "a JSON object" under a schema with one possible answer;
one that holds it is told apart from one that takes it and decodes without it (an old
llama-cpp-python dropping a grammar it cannot compile), each said and remembered; a paid or
remote endpoint is never sent the probe; the answers of an endpoint that does not hold its mode
are judged as ones asked in ``text``. The real llama.cpp server's probe is held in
``test_breakdown_llama.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.answers.asking import Asker
from storyboard.breakdown.chat import holding
from storyboard.breakdown.chat.calls import Settings
from storyboard.breakdown.chat.client import Answer, ChatClient
from storyboard.breakdown.chat.cost import Spend
from storyboard.breakdown.chat.endpoints import Endpoints
from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.breakdown.state.answerstore import AnswerCache
from storyboard.emulator.server import EmulatorServer
from storyboard.errors import ProviderError
from storyboard.providers.protocol import ApiKey
from storyboard.targets.llm import ChatPrice, chat_price
from tests.fixtures.breakdown import KEY_ENV, STORY, local_base


@pytest.fixture(autouse=True)
def fresh(chat_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, "none")
    chat_emulator.clear_faults()
    yield
    chat_emulator.clear_faults()


def run(chat_emulator: EmulatorServer, tmp_path: Path, **changes: Any
        ) -> tuple[list[str], Path]:
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(STORY, encoding="utf-8")
    said: list[str] = []
    options = Options(**{"base_url": local_base(chat_emulator), "key_env": KEY_ENV, "yes": True,
                         "model": "local", "price_in": 0.0, "price_out": 0.0, **changes})
    report = breakdown(source, series, options, say=said.append)
    assert report.problems == [], report.problems
    return said, series


def found(series: Path) -> dict[str, Any]:
    path = series / ".storyboard/breakdown/endpoints.json"
    data: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    return data


def requests(chat_emulator: EmulatorServer) -> int:
    return int(chat_emulator.stats()["chat"]["requests"])


def test_a_free_local_endpoint_that_holds_its_schema_is_probed_once_and_said(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    said, series = run(chat_emulator, tmp_path)
    assert found(series)[f"{local_base(chat_emulator)} local"]["holds"] == {"json_schema": True}
    assert sum("the endpoint holds response_format json_schema" in line for line in said) == 1
    (series / "episodes").rename(tmp_path / "gone")  # asked again: every answer from the
    before = requests(chat_emulator)                  # cache, and nothing probed again
    run(chat_emulator, tmp_path)
    assert requests(chat_emulator) == before


def test_an_endpoint_that_takes_its_schema_and_does_not_hold_it_is_told_apart(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    chat_emulator.add_rate("chat:unheld:1")
    said, series = run(chat_emulator, tmp_path)
    assert found(series)[f"{local_base(chat_emulator)} local"]["holds"] == {"json_schema": False}
    told = [line for line in said if "does not hold it" in line]
    assert len(told) == 1 and '"{\\"reply\\": \\"Hello!\\"}"' in told[0], said
    assert "judged as one asked in text" in told[0]


def test_a_paid_or_remote_endpoint_is_never_sent_the_probe(chat_emulator: EmulatorServer,
                                                           tmp_path: Path) -> None:
    said, series = run(chat_emulator, tmp_path, price_in=0.4, price_out=1.2)
    assert "holds" not in found(series).get(f"{local_base(chat_emulator)} local", {})
    assert not any("response_format json_schema" in line for line in said), said
    assert not holding.probed("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", True,
                              "json_schema")
    assert not holding.probed("http://127.0.0.1:8080/v1", True, "text")  # nothing to hold


class Scripted:
    """A client answering the probe as told (or failing), counting its calls."""

    def __init__(self, content: str, finish: str = "stop", error: bool = False) -> None:
        self.content, self.finish, self.error, self.calls = content, finish, error, 0

    def complete(self, body: dict[str, Any], *, deadline: float | None = None,
                 said: str = "") -> Answer:
        self.calls += 1
        assert body["response_format"]["json_schema"]["schema"] == holding.SCHEMA
        if self.error:
            raise ProviderError("HTTP 503: busy", provider="chat", status=503)
        return Answer(self.content, self.finish)


@pytest.mark.parametrize(("content", "finish", "error", "held"), [
    ('{"word": "qz7-probe"}', "stop", False, True),
    ('{ "word" : "qz7-probe" }\n', "stop", False, True),
    ('{"word": "hello"}', "stop", False, False),
    ('```json\n{"word": "qz7-probe"}\n```', "stop", False, False),  # a grammar allows no fence
    ('{"word": "qz7', "length", False, None),  # cut: it shows nothing
    ("", "stop", True, None),  # failed: not known, asked again next run
])
def test_the_probe_reads_held_not_held_or_not_known(tmp_path: Path, content: str, finish: str,
                                                    error: bool, held: bool | None) -> None:
    client, said = Scripted(content, finish, error), list[str]()
    endpoints = Endpoints.of(tmp_path)
    where = ("http://127.0.0.1:8080/v1", "local", "json_schema")
    holding.once(client, endpoints, where, True, said.append)
    holding.once(client, endpoints, where, True, said.append)  # once a run, whatever it found
    assert client.calls == 1 and len(said) == 1
    assert Endpoints.of(tmp_path).holds(*where) is held  # remembered, when known


def test_an_endpoint_not_holding_its_mode_has_its_answers_judged_as_text(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    price = chat_price("qwen-plus")
    assert isinstance(price, ChatPrice)
    ask = Asker(AnswerCache(tmp_path), Settings("local", local_base(chat_emulator)), Spend(price, None),
                lambda: ChatClient(local_base(chat_emulator), ApiKey("none")))
    assert ask.judged() == "json_schema" and ask.judge.context("cast", None).mode == "json_schema"
    ask.endpoints.note(local_base(chat_emulator), "local", holds={"json_schema": False})
    assert ask.mode() == "json_schema"  # still asked so (its cache keys unchanged)
    assert ask.judged() == "text" and ask.judge.context("cast", None).mode == "prompt"
