"""tools/comfyui_object_info.py: a real ComfyUI's ``/object_info`` into the emulator's node table,
and the table it recorded (storyboard/emulator/comfyui/object_info.json) as the emulator reads it."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType
from typing import Any

from storyboard.emulator.comfyui.nodes import NODES, object_info, recorded
from tests.fixtures.paths import ROOT

# Three entries of a real ComfyUI 0.8.0's answer, as it sent them (a v1 node, a v3 node with a
# growing input, a v3 upload).
REAL: dict[str, Any] = json.loads("""{
"LoadImage": {"input": {"required": {"image": [[], {"image_upload": true}]}},
  "input_order": {"required": ["image"]}, "output": ["IMAGE", "MASK"],
  "output_is_list": [false, false], "output_name": ["IMAGE", "MASK"], "name": "LoadImage",
  "display_name": "Load Image", "description": "", "python_module": "nodes",
  "category": "image", "output_node": false},
"BatchImagesNode": {"input": {"required": {"images": ["COMFY_AUTOGROW_V3", {"template": {"input":
  {"required": {"image": ["IMAGE", {}]}}, "prefix": "image", "min": 2, "max": 50}}]}},
  "input_order": {"required": ["images"]}, "output": ["IMAGE"], "output_is_list": [false],
  "output_name": ["IMAGE"], "name": "BatchImagesNode", "output_node": false},
"LoadVideo": {"input": {"required": {"file": ["COMBO", {"multiselect": false, "options": [],
  "video_upload": true}]}}, "input_order": {"required": ["file"]}, "output": ["VIDEO"],
  "name": "LoadVideo", "output_node": false}
}""")


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "comfyui_object_info", ROOT / "tools" / "comfyui_object_info.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_real_answer_becomes_the_table_the_emulator_reads(tmp_path: Any) -> None:
    script = tool()
    load = script.compact(REAL["LoadImage"])
    assert load == {"required": {"image": "COMBO"}, "optional": {}, "output": ["IMAGE", "MASK"],
                    "output_node": False, "uploads": {"image": "image_upload"}}
    batch = script.compact(REAL["BatchImagesNode"])  # a graph names its inputs images.image0 ...
    assert batch["required"] == {"images.image0": "IMAGE", "images.image1": "IMAGE"}
    assert len(batch["optional"]) == 48 and batch["optional"]["images.image49"] == "IMAGE"
    assert script.compact(REAL["LoadVideo"])["uploads"] == {"file": "video_upload"}
    text = script.record(REAL, "https://example.org/ComfyUI", "0" * 40, "0.8.0")
    table = json.loads(text)
    assert table["about"]["classes"] == 3 and table["about"]["commit"] == "0" * 40
    assert list(table["nodes"]) == sorted(REAL) and text.count("\n") == 3 + 3 + 2


def test_the_recorded_table_is_the_emulators_node_list() -> None:
    about, nodes = recorded()
    assert about["version"] == "0.8.0" and about["classes"] == len(nodes) == 567
    assert set(NODES) == {*nodes, "VHS_VideoCombine"}  # the one custom node it has besides
    info = object_info()
    assert info["LoadImage"]["input"]["required"]["image"] == [[], {"image_upload": True}]
    assert info["LoadAudio"]["input"]["required"]["audio"] == [[], {"audio_upload": True}]
    assert info["CreateVideo"]["input"]["optional"] == {"audio": ["AUDIO", {}]}
    assert info["SaveVideo"]["output_node"] and not info["CreateVideo"]["output_node"]
    assert "images.image0" in info["BatchImagesNode"]["input"]["required"]


def test_a_graph_is_validated_as_comfyui_does_in_its_words() -> None:
    """A link of the wrong type is refused with ComfyUI's message; a node no output needs is
    neither validated nor run (a real ComfyUI passes it over)."""
    from storyboard.emulator.comfyui.nodes import validate
    graph: dict[str, Any] = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "mia.png"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "a"}},
        "4": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["2", 0]}},
        "5": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    }
    refused = validate(graph, set(NODES), {"mia.png"})
    assert refused is not None
    assert refused["node_errors"]["5"]["errors"][0]["details"] == \
        "images, received_type(CONDITIONING) mismatch input_type(IMAGE)"
    assert refused["node_errors"]["2"]["errors"][0]["message"] == \
        "Return type mismatch between linked nodes"
    assert "4" not in refused["node_errors"]  # needed by no output: not validated
    del graph["5"]
    assert validate(graph, set(NODES), {"mia.png"}) is None  # 2 and 4 feed no output now
