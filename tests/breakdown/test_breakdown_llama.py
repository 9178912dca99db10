"""A real llama.cpp server (llama-cpp-python's) with a small GGUF model: a breakdown asks it.

``STORYBOARD_TEST_LLAMA`` names the server's Python and the model file, separated by ':'
(``/opt/llama-venv/bin/python:/opt/llama-venv/.../SmolLM2-135M-Instruct.Q4_1.gguf``), as a CI that
built the server sets it. The server is started here on loopback (a free port), and a one-chapter
story is broken down through ``storyboard breakdown`` as a user runs it, with the series'
``breakdown:`` block pointing at it. What is held is the path, not the model (a 135M model rarely
answers the fields asked): the server's HTTP 500 refusing ``json_schema`` is met once and stepped
down from (remembered for the endpoint), any answer stored is a JSON object, and the run ends with
located errors, the call that passed its deadline and the command that goes on, or a clean series;
never a traceback. And every schema the breakdown can send compiles, as that server compiles it:
its JSON Schema into a grammar (``json_schema_to_gbnf``) and the grammar through llama.cpp's own
parser (a grammar sampler over the model's vocabulary), none refused.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import web

EXTRA = "STORYBOARD_TEST_LLAMA"
MODEL = "smollm2"
STORY = "# The Lighthouse\n\nMia lit the lamp.\n\"Are you coming up?\" she called to Sam.\n"
START = 180.0  # seconds the server may take to load the model
DEADLINE = 120.0  # a call's: the 135M model can write its whole max_tokens (minutes on a CPU)


def _server() -> tuple[str, str] | None:
    python, sep, model = os.environ.get(EXTRA, "").partition(":")
    return (python, model) if sep else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(base: str, server: subprocess.Popen[bytes]) -> None:
    until = time.monotonic() + START
    while time.monotonic() < until and server.poll() is None:
        try:
            if web.get(f"{base}/models", timeout=5.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(f"the llama.cpp server did not answer at {base} (exit {server.poll()})")


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    found = _server()
    assert found is not None
    python, model = found
    port = _free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("wb")
    server = subprocess.Popen(
        [python, "-m", "llama_cpp.server", "--model", model, "--model_alias", MODEL, "--host",
         "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _ready(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.skipif(_server() is None, reason=f"no llama.cpp server named in {EXTRA}")
def test_a_breakdown_steps_down_from_json_schema_and_stores_json(llama: str,
                                                                 tmp_path: Path) -> None:
    story = tmp_path / "story.md"
    story.write_text(STORY, encoding="utf-8")
    series = tmp_path / "series"
    series.mkdir()
    (series / "storyboard.yaml").write_text(
        f"storyboard: 1\nbreakdown:\n  base_url: {llama}\n  model: {MODEL}\n  key_env: LOCAL_KEY\n"
        f"  price_in: 0\n  price_out: 0\n  deadline: {DEADLINE:g}\n", encoding="utf-8")
    env = {**os.environ, "LOCAL_KEY": "none"}
    done = subprocess.run([sys.executable, "-m", "storyboard", "breakdown", str(story),
                           str(series), "--yes"], env=env, capture_output=True, text=True,
                          timeout=3600, check=False)
    said = done.stdout + done.stderr
    assert done.returncode in (0, 1), said
    assert "Traceback" not in said
    folder = series / ".storyboard" / "breakdown"
    modes = json.loads((folder / "endpoints.json").read_text())
    assert modes[f"{llama} {MODEL}"]["response_format"] == "json_object", modes
    assert modes[f"{llama} {MODEL}"]["holds"] == {"json_object": True}, modes  # its probe
    assert "the endpoint holds response_format json_object" in said, said
    answers = [json.loads(p.read_text()) for p in sorted((folder / "answers").glob("*.json"))]
    assert all(isinstance(json.loads(a["content"]), dict) for a in answers)
    if done.returncode == 1:  # located problems, or the call that stopped and how to go on
        located = [row for row in said.splitlines() if row.startswith(f"{story}:")]
        assert located or "to go on: storyboard breakdown" in said, said


COMPILE = """
import json, sys
import llama_cpp
from llama_cpp.llama_grammar import json_schema_to_gbnf

schemas = json.load(open(sys.argv[1]))
refused = {}
if hasattr(llama_cpp, "llama_sampler_init_grammar"):  # 0.3.x: llama.cpp's own parser
    from llama_cpp import Llama
    model = Llama(model_path=sys.argv[2], vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(model._model.model)
    for name, schema in schemas.items():
        try:
            grammar = json_schema_to_gbnf(json.dumps(schema))
        except Exception as error:
            refused[name] = repr(error)
            continue
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        if not sampler:
            refused[name] = "llama.cpp's grammar parser refused it"
        else:
            llama_cpp.llama_sampler_free(sampler)
else:  # 0.2.x: the grammar as its server builds it (LlamaGrammar, which falls back unsaid)
    from llama_cpp.llama_grammar import LlamaGrammar
    for name, schema in schemas.items():
        try:
            LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        except Exception as error:  # 0.2.62 recursed past its limit here
            refused[name] = repr(error)[:300]
print(json.dumps({"version": llama_cpp.__version__, "refused": refused}))
"""


def refused_by_the_server(schemas: dict[str, Any], tmp_path: Path) -> tuple[str, dict[str, str]]:
    """The server's llama-cpp-python version, and the schemas its grammar builder refuses."""
    found = _server()
    assert found is not None
    (tmp_path / "schemas.json").write_text(json.dumps(schemas), encoding="utf-8")
    done = subprocess.run([found[0], "-c", COMPILE, str(tmp_path / "schemas.json"), found[1]],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    said = json.loads(done.stdout.splitlines()[-1])
    return str(said["version"]), dict(said["refused"])


@pytest.mark.skipif(_server() is None, reason=f"no llama.cpp server named in {EXTRA}")
def test_every_schema_the_breakdown_sends_compiles_on_the_server(tmp_path: Path) -> None:
    from tests.breakdown.test_breakdown_grammars import sent
    every = dict(sent())
    assert len(every) >= 10 and any("Are you coming up" in name for name in every)
    assert refused_by_the_server(every, tmp_path)[1] == {}


# The shape llama-cpp-python 0.2.62 recursed past its limit on (issue 98): a list that may hold
# nothing, of items with a bounded string. 0.3.x compiles it.
RECURSED = {"type": "object", "properties": {"lines": {"type": "array", "maxItems": 0, "items": {
    "type": "object", "properties": {"quote": {"type": "string", "maxLength": 600}},
    "required": ["quote"]}}}, "required": ["lines"]}


@pytest.mark.skipif(_server() is None, reason=f"no llama.cpp server named in {EXTRA}")
def test_a_grammar_the_parser_refuses_is_caught(tmp_path: Path) -> None:
    """The check above can fail: a schema no grammar matches (a pattern llama.cpp does not
    take) is refused by name on every version, and on 0.2.x the shape it recursed on."""
    bad = {"bad": {"type": "string", "pattern": "^(?<=a)b$"}, "recursed": RECURSED}
    version, refused = refused_by_the_server(bad, tmp_path)
    assert sorted(refused) == (["bad", "recursed"] if version.startswith("0.2.") else ["bad"]), \
        (version, refused)
