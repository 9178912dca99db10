#!/usr/bin/env bash
# CI's tool-install step: README's "As a tool, from a clone" lines, run as written from the clone's
# folder with pipx and with uv (each installed from the registry by name into a throwaway virtual
# environment), each into throwaway homes: the command works, and the missing-extra hint names a
# command that, run as printed, adds the extra (issue 65, items 1 and 2).
#
# usage: .ci/tool-install.sh      (from .ci/run, after README command 1: .venv/ exists)
#
# tests/project/test_ci_tool_install.py holds every install line below to README's block.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(mktemp -d)"
python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q pipx uv
export PATH="$WORK/bin:$WORK/tools/bin:$PATH" PIPX_BIN_DIR="$WORK/bin" UV_TOOL_BIN_DIR="$WORK/bin"
export UV_PYTHON_DOWNLOADS=never UV_PYTHON="$(command -v python3)" PIPX_DEFAULT_PYTHON="$(command -v python3)"
SERIES="$PWD/examples/coffee-shop"

fresh() {  # a new, empty home for each way of installing
    rm -rf "$WORK/bin" && mkdir -p "$WORK/bin"
    export PIPX_HOME="$WORK/pipx-$1" UV_TOOL_DIR="$WORK/uv-$1"
}

works() {  # the installed command runs, and says which extras it has
    storyboard --version
    storyboard check "$SERIES" >/dev/null
}

hint_adds_the_studio() {  # the missing extra's hint, run as printed, adds it
    local said rc=0
    said="$(storyboard studio "$SERIES" 2>&1 >/dev/null </dev/null)" || rc=$?
    [ "$rc" != 0 ] || { echo "storyboard studio ran without the studio extra"; exit 1; }
    local command="${said##*add the extra with: }"
    [ "$command" != "$said" ] || { echo "no hint in: $said"; exit 1; }
    echo "the hint: $command"
    eval "$command"
    "$1" -c 'import starlette, uvicorn, watchfiles' || { echo "the hint did not add the studio extra"; exit 1; }
}

has_extras() {  # studio and export, installed with the tool
    "$1" -c 'import starlette, uvicorn, opentimelineio' || { echo "the extras were not installed"; exit 1; }
}

echo "== pipx install ."
fresh pipx && pipx install . && works
hint_adds_the_studio "$PIPX_HOME/venvs/storyboard-compiler/bin/python"
echo "== pipx install '.[studio,export]'"
fresh pipx-extras && pipx install '.[studio,export]' && works
has_extras "$PIPX_HOME/venvs/storyboard-compiler/bin/python"
echo "== uv tool install ."
fresh uv && uv tool install . && works
hint_adds_the_studio "$UV_TOOL_DIR/storyboard-compiler/bin/python"
echo "== uv tool install '.[studio,export]'"
fresh uv-extras && uv tool install '.[studio,export]' && works
has_extras "$UV_TOOL_DIR/storyboard-compiler/bin/python"
rm -rf "$WORK"
