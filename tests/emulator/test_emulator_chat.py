"""The emulator's chat completions endpoint, driven by the official ``openai`` client: answers in
the requested schema, usage, and each fault as the client sees it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from storyboard.breakdown.questions import prompts, schemas
from storyboard.breakdown.source import Chapter
from storyboard.emulator.faults import FaultSyntaxError, parse_fault
from storyboard.emulator.server import EmulatorServer
from tests.fixtures import web

LINES = ("Mia opened the door. Sam stood in the rain.", "", '"Come in," said Mia.')
CHAPTER = Chapter("story.md", 1, "The Door", 1, LINES)

if TYPE_CHECKING:  # the SDK, imported where it runs (collecting the suite does not import it)
    import openai


@pytest.fixture
def client(chat_emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    import openai

    chat_emulator.clear_faults()
    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0]
    with openai.OpenAI(base_url=f"{base}/compatible-mode/v1", api_key="sk-test",
                       max_retries=0) as made:
        yield made


def ask(client: openai.OpenAI, stage: str, context: dict[str, object] | None = None) -> object:
    return client.chat.completions.create(
        model="qwen-plus", messages=prompts.messages(stage, CHAPTER, context or {}),  # type: ignore[arg-type]
        response_format=schemas.response_format(stage),  # type: ignore[arg-type]
        extra_body={"enable_thinking": False})


def test_the_official_client_gets_answers_in_each_stage_schema(client: openai.OpenAI) -> None:
    context = {"beats": [], "characters": ["Mia", "Sam"], "places": [], "props": []}
    for stage in ("outline", "cast", "shots"):
        completion = ask(client, stage, context if stage == "shots" else None)
        choice = completion.choices[0]  # type: ignore[attr-defined]
        assert choice.finish_reason == "stop"
        answer = json.loads(choice.message.content)
        assert schemas.problems(stage, answer) == []
        assert completion.usage.prompt_tokens > 0 < completion.usage.completion_tokens  # type: ignore[attr-defined]
    assert [c["name"] for c in answer_of(client, "cast")["characters"]] == ["Mia", "Sam"]
    quotes = [line["quote"] for shot in answer_of(client, "shots", context)["shots"]
              for scene in shot["scenes"] for line in scene["lines"]]
    assert quotes == ["Come in,"]


def answer_of(client: openai.OpenAI, stage: str, context: dict[str, object] | None = None
              ) -> dict[str, object]:
    completion = ask(client, stage, context)
    return json.loads(completion.choices[0].message.content)  # type: ignore[attr-defined,no-any-return]


def test_the_plain_v1_path_answers_too(chat_emulator: EmulatorServer) -> None:
    import openai

    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0]
    with openai.OpenAI(base_url=f"{base}/v1", api_key="sk-test", max_retries=0) as client:
        reply = client.chat.completions.create(model="m", messages=[
            {"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "You said: hello"


def test_faults_reach_the_official_client(chat_emulator: EmulatorServer,
                                          client: openai.OpenAI) -> None:
    import openai

    chat_emulator.script("chat:429,chat:moderation,chat:drop,chat:length,chat:invalid_json")
    with pytest.raises(openai.RateLimitError):
        ask(client, "outline")
    with pytest.raises(openai.BadRequestError) as refused:
        ask(client, "outline")
    assert refused.value.code == "data_inspection_failed"
    with pytest.raises(openai.APIConnectionError):
        ask(client, "outline")
    cut = ask(client, "outline").choices[0]  # type: ignore[attr-defined]
    assert cut.finish_reason == "length"
    with pytest.raises(ValueError):
        json.loads(ask(client, "outline").choices[0].message.content)  # type: ignore[attr-defined]
    assert chat_emulator.stats()["chat"]["requests"] >= 5


def test_a_missing_key_and_json_mode_without_the_word_json_are_refused(
        chat_emulator: EmulatorServer) -> None:
    import openai

    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0]
    unsigned = web.post(f"{base}/compatible-mode/v1/chat/completions",
                          json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert unsigned.status_code == 401
    assert unsigned.json()["error"]["code"] == "invalid_api_key"
    with openai.OpenAI(base_url=f"{base}/compatible-mode/v1", api_key="k",
                       max_retries=0) as client, pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}],
                                       response_format={"type": "json_object"})


def test_chat_faults_parse_and_unknown_ones_are_refused() -> None:
    assert str(parse_fault("chat:paraphrase")) == "chat:paraphrase"
    with pytest.raises(FaultSyntaxError, match="not a fault of chat"):
        parse_fault("chat:status=x")


def test_the_official_client_reads_the_emulators_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="qwen-plus", messages=prompts.messages("outline", CHAPTER, {}),  # type: ignore[arg-type]
        stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert schemas.problems("outline", json.loads(text)) == []
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_llama_cpp_pythons_refusal_of_json_schema_reaches_the_official_client(
        chat_emulator: EmulatorServer, client: openai.OpenAI) -> None:
    import openai

    chat_emulator.script("chat:no_schema")
    with pytest.raises(openai.InternalServerError) as refused:
        ask(client, "outline")
    assert "Input should be 'text' or 'json_object'" in str(refused.value)
