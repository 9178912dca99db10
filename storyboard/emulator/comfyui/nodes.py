"""A real ComfyUI's node table into ``/object_info`` answers and graph validation, for the emulator.

The table (``object_info.json``) is recorded from a real ComfyUI started without weights
and without custom nodes, by ``tools/comfyui_object_info.py`` (its source, commit and version are
in the file's ``about``): every core node class with its required and optional inputs and their
types, its outputs, whether it saves results, and which inputs take an uploaded file. On top of
it the emulator has one custom node installed, Video Helper Suite's ``VHS_VideoCombine``.
``validate`` answers a graph the way ComfyUI's ``execution.validate_prompt`` does, in its words:
a 400 body with ``node_errors``. The values a node accepts (a model file the server has, a number
in its range) are not checked: the emulator stands for a server that has every weight.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("object_info.json")
ANY = ("*", "COMFY_MATCHTYPE_V3")  # ComfyUI's "any" types: every link fits them


@dataclass(frozen=True)
class Node:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    output_node: bool = False
    loads: str = ""  # the input naming an uploaded file (LoadImage's ``image``)
    upload: str = ""  # its flag in ``/object_info`` (``image_upload``, ``audio_upload`` ...)
    types: Mapping[str, str] = field(default_factory=dict)  # each input's type, by name


def _node(entry: Mapping[str, Any]) -> Node:
    required, optional = entry.get("required") or {}, entry.get("optional") or {}
    loads, upload = next(iter((entry.get("uploads") or {}).items()), ("", ""))
    return Node(tuple(required), tuple(optional), tuple(entry.get("output") or ()),
                bool(entry.get("output_node")), loads, upload, {**optional, **required})


@functools.cache
def recorded() -> tuple[dict[str, Any], dict[str, Node]]:
    """The table's ``about`` (where it was recorded) and its node classes."""
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    return table["about"], {name: _node(entry) for name, entry in table["nodes"].items()}


# Video Helper Suite's combine node (a custom node): frames (and a sound, when linked) into a file
VHS = Node(("images", "frame_rate", "loop_count", "filename_prefix", "format", "pingpong",
            "save_output"), ("audio", "meta_batch", "vae"), ("VHS_FILENAMES",), output_node=True,
           types={"images": "IMAGE", "audio": "AUDIO", "meta_batch": "VHS_BatchManager",
                  "vae": "VAE"})
NODES: dict[str, Node] = {**recorded()[1], "VHS_VideoCombine": VHS}
SOUND_NODES = ("CreateVideo", "VHS_VideoCombine")  # their video has sound only when linked to one


def object_info(missing: Collection[str] = ()) -> dict[str, Any]:
    """``GET /object_info``: every node but ``missing`` (a fault: a node not installed)."""
    return {name: _info(name, node) for name, node in NODES.items() if name not in missing}


def _info(name: str, node: Node) -> dict[str, Any]:
    def spec(input_name: str) -> list[Any]:
        if input_name == node.loads:
            return [[], {node.upload: True}]
        kind = node.types.get(input_name, "*")
        return [[] if kind == "COMBO" else kind, {}]
    return {"input": {"required": {n: spec(n) for n in node.required},
                      "optional": {n: spec(n) for n in node.optional}},
            "output": list(node.outputs), "output_node": node.output_node, "name": name,
            "display_name": name, "category": "storyboard-emulator"}


def _error(kind: str, message: str, details: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def _unknown(node_id: str, node: Any) -> dict[str, Any] | None:
    """ComfyUI's answer to a node without a class, or of a class it does not have
    (``execution.validate_prompt``, word for word)."""
    if not isinstance(node, dict) or "class_type" not in node:
        return _error("invalid_prompt", "Cannot execute because a node is missing the "
                      "class_type property.", f"Node ID '#{node_id}'")
    return _error("invalid_prompt", f"Cannot execute because node {node['class_type']} does "
                  "not exist.", f"Node ID '#{node_id}'")


def validate(graph: Any, known: Collection[str], files: Collection[str]
             ) -> dict[str, Any] | None:
    """The 400 body ComfyUI answers for ``graph``, or None when it validates. ``known``: the
    node classes installed; ``files``: the input folder's file names."""
    if not isinstance(graph, dict) or not graph:
        return {"error": _error("invalid_prompt", "Cannot execute because the prompt is empty "
                                "or not an object.", ""), "node_errors": {}}
    for node_id, node in graph.items():
        kind = node.get("class_type") if isinstance(node, dict) else None
        if not isinstance(kind, str) or kind not in known:
            return {"error": _unknown(str(node_id), node), "node_errors": {}}
    outputs = [k for k, n in graph.items() if NODES[n["class_type"]].output_node]
    if not outputs:
        return {"error": _error("prompt_no_outputs", "Prompt has no outputs", ""),
                "node_errors": {}}
    errors = {node_id: _node_errors(graph[node_id], graph, files)
              for node_id in reachable(graph, outputs)}
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        return {"error": _error("prompt_outputs_failed_validation",
                                "Prompt outputs failed validation", ""),
                "node_errors": {k: {"errors": v, "dependent_outputs": outputs,
                                    "class_type": graph[k]["class_type"]}
                                for k, v in errors.items()}}
    return None


def reachable(graph: Mapping[str, Any], outputs: Collection[str]) -> list[str]:
    """The nodes the outputs need, in graph order: all ComfyUI validates and runs (a node
    that feeds no output is neither)."""
    seen, todo = set(), list(outputs)
    while todo:
        node_id = todo.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        raw = graph[node_id].get("inputs")
        todo += [str(v[0]) for v in (raw.values() if isinstance(raw, dict) else ())
                 if isinstance(v, list) and len(v) == 2 and str(v[0]) in graph]
    return [node_id for node_id in graph if node_id in seen]


def _node_errors(node: Mapping[str, Any], graph: Mapping[str, Any], files: Collection[str]
                 ) -> list[dict[str, Any]]:
    declared = NODES[node["class_type"]]
    raw = node.get("inputs")
    inputs: dict[str, Any] = raw if isinstance(raw, dict) else {}
    problems = [_error("required_input_missing", "Required input is missing", name,
                       input_name=name) for name in declared.required if name not in inputs]
    for name in (*declared.required, *declared.optional):
        value = inputs.get(name)
        if isinstance(value, list):
            problems += _link_errors(name, value, declared.types.get(name, "*"), graph)
        elif isinstance(value, str) and "{{" in value:
            problems.append(_error("invalid_input_type", "a placeholder was sent unfilled",
                                   f"{name}: {value}"))
    if declared.loads and isinstance(inputs.get(declared.loads), str) \
            and inputs[declared.loads] not in files:
        problems.append(_error("value_not_in_list", "Value not in list",
                               f"{declared.loads}: '{inputs[declared.loads]}' not in input"))
    return problems


def _link_errors(name: str, value: list[Any], wanted: str, graph: Mapping[str, Any]
                 ) -> list[dict[str, Any]]:
    if len(value) != 2 or str(value[0]) not in graph:
        return [_error("bad_linked_input", "Bad linked input, must be a length-2 list of "
                       "[node_id, slot_index]", name, input_name=name)]
    source = NODES[graph[str(value[0])]["class_type"]]
    slot = value[1]
    if not isinstance(slot, int) or not 0 <= slot < len(source.outputs):
        return [_error("exception_during_validation", "Exception when validating node",
                       "tuple index out of range")]
    received = source.outputs[slot]
    if _fits(received, wanted):
        return []
    return [_error("return_type_mismatch", "Return type mismatch between linked nodes",
                   f"{name}, received_type({received}) mismatch input_type({wanted})",
                   input_name=name)]


def _fits(received: str, wanted: str) -> bool:
    """``comfy_execution.validation.validate_node_input``: the same type, an "any" type, or
    comma-separated types in common."""
    if received == wanted or received in ANY or wanted in ANY:
        return True
    given, taken = {t.strip() for t in received.split(",")}, {t.strip() for t in wanted.split(",")}
    return bool(given & taken) or bool({*given, *taken} & set(ANY))
