"""Record a real ComfyUI's node table (``GET /object_info``) for the emulator.

    python tools/comfyui_object_info.py --comfyui /path/to/ComfyUI [--python /venv/bin/python]
    python tools/comfyui_object_info.py --url http://127.0.0.1:8188 --source ... --commit ...

With ``--comfyui`` it starts that checkout without weights and without custom nodes
(``main.py --cpu --disable-all-custom-nodes``, its folders in a temporary directory), waits for
``/object_info``, reads it and stops the server; with ``--url`` it reads a server already running.
It writes ``storyboard/emulator/comfyui/object_info.json``: per node class its required and
optional inputs (each input's type: a link type such as ``IMAGE``, a widget type such as ``INT``,
or ``COMBO`` for a list of choices), its outputs, whether it is an output node, and which inputs
take an uploaded file; with the checkout's source, commit and version. One class a line, sorted,
so a refresh is a readable diff (docs/gpus.md).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "storyboard" / "emulator" / "comfyui" / "object_info.json"
AUTOGROW = "COMFY_AUTOGROW_V3"
UPLOADS = ("image_upload", "audio_upload", "video_upload", "upload")
START_TIMEOUT = 900.0  # seconds: a cold start on a small CPU imports every node module


def input_type(spec: Any) -> str:
    """An input's type from its ``/object_info`` spec: ``[TYPE, {...}]`` or ``[[choices], {...}]``."""
    head = spec[0] if isinstance(spec, list) and spec else spec
    if isinstance(head, list):
        return "COMBO"
    return str(head)


def upload_flag(spec: Any) -> str:
    """The flag that marks an input as taking an uploaded file (``image_upload`` ...), or ""."""
    options = spec[1] if isinstance(spec, list) and len(spec) > 1 else {}
    if not isinstance(options, dict):
        return ""
    return next((flag for flag in UPLOADS if options.get(flag) is True), "")


def compact(info: dict[str, Any]) -> dict[str, Any]:
    """One class's ``/object_info`` entry into what the emulator reads."""
    inputs = info.get("input") or {}
    table: dict[str, Any] = {}
    loads: dict[str, str] = {}
    table["required"], table["optional"] = {}, {}
    for part in ("required", "optional"):
        for name, spec in (inputs.get(part) or {}).items():
            if input_type(spec) == AUTOGROW:
                for grown, kind, needed in autogrow(name, spec[1]):
                    table["required" if needed and part == "required" else "optional"][grown] = kind
                continue
            table[part][name] = input_type(spec)
            if upload_flag(spec):
                loads[name] = upload_flag(spec)
    table["output"] = [str(t) if not isinstance(t, list) else "COMBO" for t in info.get("output") or []]
    table["output_node"] = bool(info.get("output_node"))
    if loads:
        table["uploads"] = loads
    return table


def autogrow(name: str, options: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """A growing input (``COMFY_AUTOGROW_V3``) as the names a graph gives it, ``images.image0``
    ..., each with its type and whether it is required (the first ``min``)."""
    template = options.get("template") or {}
    specs = (template.get("input") or {}).get("required") or {}
    kind = input_type(next(iter(specs.values()), "*"))
    names = template.get("names") or [f"{template.get('prefix', name)}{n}"
                                      for n in range(int(template.get("max") or 10))]
    least = int(template.get("min") or 0)
    return [(f"{name}.{grown}", kind, n < least) for n, grown in enumerate(names)]


def fetch(url: str) -> dict[str, Any]:
    return get(url, "/object_info")


def get(url: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url.rstrip('/')}{path}", timeout=120) as answer:
        data: dict[str, Any] = json.load(answer)
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def git(checkout: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True)
    return done.stdout.strip()


def version(checkout: Path) -> str:
    text = (checkout / "comfyui_version.py").read_text(encoding="utf-8")
    return text.split("__version__ = ")[-1].strip().strip("\"'")


def started(checkout: Path, python: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The checkout's server on a free loopback port, its folders under a temporary one."""
    port = free_port()
    base = Path(tempfile.mkdtemp(prefix="comfyui-object-info-"))
    command = [python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
               "--disable-all-custom-nodes", "--disable-auto-launch", "--base-directory",
               str(base), "--database-url", "sqlite:///:memory:"]
    child = subprocess.Popen(command, cwd=checkout, stdout=log.open("wb"),
                             stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return child, f"http://127.0.0.1:{port}"


def wait(child: subprocess.Popen[bytes], url: str, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            sys.exit(f"ComfyUI exited ({child.returncode}); its log: {log}")
        try:
            return fetch(url)
        except OSError:
            time.sleep(2)
    sys.exit(f"ComfyUI did not answer /object_info in {START_TIMEOUT:.0f} s; its log: {log}")


def record(info: dict[str, Any], source: str, commit: str, comfy_version: str) -> str:
    """The table's text: its provenance, then one node class a line."""
    lines = [f'  {json.dumps(name)}: {json.dumps(compact(info[name]), sort_keys=True)}'
             for name in sorted(info)]
    head = {"source": source, "commit": commit, "version": comfy_version,
            "recorded": time.strftime("%Y-%m-%d", time.gmtime()), "classes": len(info),
            "how": "tools/comfyui_object_info.py: main.py --cpu --disable-all-custom-nodes, "
                   "no model files"}
    return ('{\n"about": ' + json.dumps(head, sort_keys=True) + ',\n"nodes": {\n'
            + ",\n".join(lines) + "\n}\n}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comfyui", type=Path, help="a ComfyUI checkout to start")
    parser.add_argument("--python", default=sys.executable, help="the checkout's interpreter")
    parser.add_argument("--url", help="read a ComfyUI already running here instead")
    parser.add_argument("--source", default="https://github.com/comfyanonymous/ComfyUI")
    parser.add_argument("--commit", default="", help="the commit (read from --comfyui's git)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if (args.comfyui is None) == (args.url is None):
        parser.error("give --comfyui CHECKOUT or --url URL")
    if args.url:
        info, commit = fetch(args.url), args.commit
        comfy_version = str(get(args.url, "/system_stats")["system"]["comfyui_version"])
    else:
        log = Path(tempfile.mkstemp(prefix="comfyui-", suffix=".log")[1])
        child, url = started(args.comfyui, args.python, log)
        try:
            info = wait(child, url, log)
        finally:
            child.terminate()
            child.wait(30)
        commit = args.commit or git(args.comfyui, "rev-parse", "HEAD")
        comfy_version = version(args.comfyui)
    args.out.write_text(record(info, args.source, commit, comfy_version), encoding="utf-8")
    print(f"{len(info)} node classes into {args.out}")


if __name__ == "__main__":
    main()
