"""CI's lowest-versions step (.ci/lowest.sh) covers every extra with tests, and its llama.cpp
server (.ci/llama-server.sh) builds only what the server loads, once per key."""

from __future__ import annotations

import re
import tomllib

from tests.fixtures.paths import ROOT
from tests.fixtures.store_servers import AZURITE_VERSION

LOWEST = (ROOT / ".ci" / "lowest.sh").read_text("utf-8")
SERVER = (ROOT / ".ci" / "llama-server.sh").read_text("utf-8")
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["optional-dependencies"]
# dev: the tests' own. Every remote store is (each against its server on loopback: moto,
# fake-gcs-server, Azurite, sshd), and bench (its two benchmarks that use it, run small)
NOT_AT_FLOORS = {"dev"}


def test_every_feature_extra_is_installed_at_its_floors() -> None:
    listed = re.search(r'^EXTRAS="([^"]+)"$', LOWEST, re.MULTILINE)
    assert listed is not None
    assert set(listed.group(1).split(",")) == set(EXTRAS) - NOT_AT_FLOORS
    assert "--resolution lowest-direct" in LOWEST and '-e ".[$EXTRAS]"' in LOWEST


def test_the_step_runs_the_tests_of_each_extra_and_builds_the_docs() -> None:
    named = re.findall(r"tests/[\w/]+\.py", LOWEST)
    assert all((ROOT / path).is_file() for path in named), named
    for path in ("tests/agents/test_mcp.py", "tests/run/test_store.py", "tests/run/test_store_s3.py",
                 "tests/run/test_store_gcs.py", "tests/run/test_store_azure.py",
                 "tests/run/test_store_ssh.py",
                 "tests/run/test_team_ledger.py",
                 "tests/review/test_export_jianying.py", "tests/cli/test_cli_render.py"):
        assert path in named
    assert "python -m mkdocs build --strict" in LOWEST
    assert "python bench/join.py " in LOWEST and "python bench/stitch.py " in LOWEST  # bench
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "\n.ci/lowest.sh\n" in ci and "\n    .ci/llama-server.sh /opt/llama-venv\n" in ci
    # the remote stores' servers that are no Python package: installed before the tests
    assert " openssh-server " in ci and 'export STORYBOARD_TEST_AZURITE=' in ci
    assert ci.index("STORYBOARD_TEST_AZURITE=") < ci.index("README command 2")
    assert f"\nAZURITE_VERSION={AZURITE_VERSION}\n" in ci  # where the tests look for it


def test_the_llama_server_is_built_lean_and_kept_by_key() -> None:
    for flag in ("GGML_NATIVE=OFF", "LLAVA_BUILD=OFF", "LLAMA_BUILD_TESTS=OFF", "LLAMA_BUILD_EXAMPLES=OFF",
                 "LLAMA_BUILD_TOOLS=OFF", "LLAMA_BUILD_SERVER=OFF", "GGML_BUILD_TESTS=OFF"):
        assert f"-D{flag}" in SERVER
    # the version and the flags name the cached wheel
    assert """KEY="$(printf '%s\\n' "$VERSION" "$LLAMA_CMAKE_ARGS" """ in SERVER
    assert 'WHEELS="$CACHE_ROOT/llama-cpp-python-$VERSION-$KEY"' in SERVER
    assert 'mv "$BUILD" "$WHEELS"' in SERVER  # moved into place whole: a broken build is never reused
