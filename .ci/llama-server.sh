#!/usr/bin/env bash
# llama.cpp's server (llama-cpp-python) into a virtual environment, from a wheel built once per key.
#
# usage: .ci/llama-server.sh VENV [VERSION]    (VERSION: 0.3.36, or 0.2.62, the older build people run)
#
# The registry has no wheel of llama-cpp-python for Linux, so it is compiled from its source package.
# Only what the server loads is built: libllama and ggml (the Python bindings load nothing else).
# LLAVA_BUILD=OFF drops the multimodal library (mtmd: clip and every vision model's code), the
# llama.cpp and ggml tests, examples, tools, server binary and app are off (they are off by default
# when llama.cpp is a subproject; said here so that a new release changing it changes nothing), and
# LLAMA_OPENSSL=OFF: the common library's HTTP client is never used. GGML_NATIVE=OFF: a native build
# uses every instruction the build machine has (AMX here), which a sandbox may refuse at the first
# token. (LLAMA_BUILD_COMMON is forced on by llama-cpp-python's own CMakeLists: it cannot be cut.)
#
# The wheel is kept in /var/cache/storyboard-ci/, in a folder named by a digest of the version, these
# flags, the machine and the compiler: a later run with the same key installs it at once,
# and a change to any of them builds a new one. It is built into a temporary folder and moved into
# place when complete, so an interrupted build is never reused.
set -euo pipefail
VENV="${1:?usage: $0 VENV [VERSION]}"
VERSION="${2:-0.3.36}"
case "$VERSION" in
0.2.*)  # before llama.cpp's ggml split: the same choices under their older names
    LLAMA_CMAKE_ARGS="-DLLAMA_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF"
    LLAMA_CMAKE_ARGS+=" -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF" ;;
*)
    LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
    LLAMA_CMAKE_ARGS+=" -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF"
    LLAMA_CMAKE_ARGS+=" -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF" ;;
esac
CACHE_ROOT="${STORYBOARD_CI_CACHE:-/var/cache/storyboard-ci}"

# --clear: a venv left by another Python (a developer's) is made anew, never mixed with this one
python3 -m venv --clear "$VENV"
# The wheel holds no Python extension (the bindings load the libraries with ctypes: its tag is
# py3-none), so the Python that builds it is not part of the key.
KEY="$(printf '%s\n' "$VERSION" "$LLAMA_CMAKE_ARGS" "$(uname -m)" "$(cc --version | head -n 1)" \
    | sha256sum | cut -c1-16)"
WHEELS="$CACHE_ROOT/llama-cpp-python-$VERSION-$KEY"
if ! compgen -G "$WHEELS/llama_cpp_python-$VERSION-*.whl" >/dev/null; then
    mkdir -p "$CACHE_ROOT"
    BUILD="$(mktemp -d "$CACHE_ROOT/.building.XXXXXX")"
    echo "building llama-cpp-python $VERSION (key $KEY): $LLAMA_CMAKE_ARGS"
    start=$SECONDS
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" nice "$VENV/bin/pip" wheel -q --no-deps --no-cache-dir \
        --no-binary llama-cpp-python -w "$BUILD" "llama-cpp-python==$VERSION"
    echo "built in $((SECONDS - start)) s"
    rm -rf "$WHEELS" && mv "$BUILD" "$WHEELS"
else
    echo "llama-cpp-python $VERSION: reusing the wheel built earlier with the same key ($WHEELS)"
fi
WHEEL="$(compgen -G "$WHEELS/llama_cpp_python-$VERSION-*.whl" | head -n 1)"
"$VENV/bin/pip" install -q "$WHEEL[server]"
