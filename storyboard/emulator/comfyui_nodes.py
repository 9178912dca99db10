"""Core ComfyUI node declarations into ``/object_info`` answers and graph validation, for the emulator.

The nodes the example workflows use, with the input names of ComfyUI's own ``nodes.py`` and
``comfy_extras/nodes_wan.py`` (checked against the ``comfyui-workflow-templates`` package): which
inputs are required and which optional, what each outputs, which nodes save results. ``validate``
answers a graph the way ``execution.validate_prompt`` does: a 400 body with ``node_errors``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

WAN_LATENT = ("positive", "negative", "vae", "width", "height", "length", "batch_size")


@dataclass(frozen=True)
class Node:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    output_node: bool = False
    loads: str = ""  # the input naming an uploaded file (LoadImage's ``image``)


NODES: dict[str, Node] = {
    "CheckpointLoaderSimple": Node(("ckpt_name",), (), ("MODEL", "CLIP", "VAE")),
    "UNETLoader": Node(("unet_name", "weight_dtype"), (), ("MODEL",)),
    "CLIPLoader": Node(("clip_name", "type"), ("device",), ("CLIP",)),
    "VAELoader": Node(("vae_name",), (), ("VAE",)),
    "CLIPVisionLoader": Node(("clip_name",), (), ("CLIP_VISION",)),
    "CLIPVisionEncode": Node(("clip_vision", "image", "crop"), (), ("CLIP_VISION_OUTPUT",)),
    "LoraLoaderModelOnly": Node(("model", "lora_name", "strength_model"), (), ("MODEL",)),
    "ModelSamplingSD3": Node(("model", "shift"), (), ("MODEL",)),
    "CLIPTextEncode": Node(("text", "clip"), (), ("CONDITIONING",)),
    "LoadImage": Node(("image",), (), ("IMAGE", "MASK"), loads="image"),
    "LoadAudio": Node(("audio",), (), ("AUDIO",), loads="audio"),
    "LoadVideo": Node(("file",), (), ("VIDEO",), loads="file"),
    "GetVideoComponents": Node(("video",), (), ("IMAGE", "AUDIO", "FLOAT")),
    "ImageBatch": Node(("image1", "image2"), (), ("IMAGE",)),
    "BatchImagesNode": Node(("images.image0",), tuple(f"images.image{n}" for n in range(1, 10)),
                            ("IMAGE",)),
    "ImageFromBatch": Node(("image", "batch_index", "length"), (), ("IMAGE",)),
    "AudioEncoderLoader": Node(("audio_encoder_name",), (), ("AUDIO_ENCODER",)),
    "AudioEncoderEncode": Node(("audio_encoder", "audio"), (), ("AUDIO_ENCODER_OUTPUT",)),
    "WanImageToVideo": Node(WAN_LATENT, ("clip_vision_output", "start_image"),
                            ("CONDITIONING", "CONDITIONING", "LATENT")),
    "WanFirstLastFrameToVideo": Node(WAN_LATENT, (
        "clip_vision_start_image", "clip_vision_end_image", "start_image", "end_image"),
        ("CONDITIONING", "CONDITIONING", "LATENT")),
    "WanVaceToVideo": Node((*WAN_LATENT, "strength"), (
        "control_video", "control_masks", "reference_image"),
        ("CONDITIONING", "CONDITIONING", "LATENT", "INT")),
    "WanPhantomSubjectToVideo": Node(WAN_LATENT, ("images",), (
        "CONDITIONING", "CONDITIONING", "CONDITIONING", "LATENT")),
    "WanSoundImageToVideo": Node(WAN_LATENT, (
        "audio_encoder_output", "ref_image", "control_video", "ref_motion"),
        ("CONDITIONING", "CONDITIONING", "LATENT")),
    "TrimVideoLatent": Node(("samples", "trim_amount"), (), ("LATENT",)),
    "KSampler": Node(("model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive",
                      "negative", "latent_image", "denoise"), (), ("LATENT",)),
    "VAEDecode": Node(("samples", "vae"), (), ("IMAGE",)),
    "EmptyLatentImage": Node(("width", "height", "batch_size"), (), ("LATENT",)),  # a picture
    "CreateVideo": Node(("images", "fps"), ("audio",), ("VIDEO",)),
    "SaveVideo": Node(("video", "filename_prefix", "format", "codec"), (), (),
                      output_node=True),
    # Video Helper Suite's combine node: frames (and a sound, when linked) into a video file
    "VHS_VideoCombine": Node(("images", "frame_rate", "loop_count", "filename_prefix", "format",
                              "pingpong", "save_output"), ("audio", "meta_batch", "vae"),
                             ("VHS_FILENAMES",), output_node=True),
}
NODES["SaveImage"] = Node(("images", "filename_prefix"), (), (), output_node=True)  # PNG frames
SOUND_NODES = ("CreateVideo", "VHS_VideoCombine")  # their video has sound only when linked to one


def object_info(missing: Collection[str] = ()) -> dict[str, Any]:
    """``GET /object_info``: every node but ``missing`` (a fault: a node not installed)."""
    return {name: _info(name, node) for name, node in NODES.items() if name not in missing}


def _info(name: str, node: Node) -> dict[str, Any]:
    def spec(input_name: str) -> list[Any]:
        if input_name == node.loads:
            return [[], {"image_upload": True}]
        return ["*", {}]
    return {"input": {"required": {n: spec(n) for n in node.required},
                      "optional": {n: spec(n) for n in node.optional}},
            "output": list(node.outputs), "output_node": node.output_node, "name": name,
            "display_name": name, "category": "storyboard-emulator"}


def _error(kind: str, message: str, details: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def _missing(node_id: str, node: Any) -> dict[str, Any]:
    """ComfyUI's answer to a node whose class is not installed (``execution.validate_prompt``):
    named by its title (``_meta.title``, else its class), with the node in ``extra_info``."""
    kind = node.get("class_type") if isinstance(node, dict) else None
    meta = node.get("_meta") if isinstance(node, dict) else None
    title = meta.get("title") if isinstance(meta, dict) else None
    if not isinstance(kind, str):
        shown = title or f"#{node_id}"
        message = (f"Node '{shown}' has no class_type. The workflow may be corrupted or a custom "
                   "node is missing.")
        kind = None
    else:
        title = title if isinstance(title, str) else kind
        message = f"Node '{title}' not found. The custom node may not be installed."
    return {"type": "missing_node_type", "message": message, "details": f"Node ID '#{node_id}'",
            "extra_info": {"node_id": node_id, "class_type": kind, "node_title": title}}


def validate(graph: Any, known: Collection[str], files: Collection[str]
             ) -> dict[str, Any] | None:
    """The 400 body ComfyUI answers for ``graph``, or None when it validates. ``known``: the
    node classes installed; ``files``: the input folder's file names."""
    if not isinstance(graph, dict) or not graph:
        return {"error": _error("invalid_prompt", "Cannot execute because the prompt is empty "
                                "or not an object.", ""), "node_errors": {}}
    for node_id, node in graph.items():
        kind = node.get("class_type") if isinstance(node, dict) else None
        if kind not in known:
            return {"error": _missing(str(node_id), node), "node_errors": {}}
    errors = {node_id: _node_errors(node_id, node, graph, files) for node_id, node in graph.items()}
    errors = {k: v for k, v in errors.items() if v}
    outputs = [k for k, n in graph.items() if NODES[n["class_type"]].output_node]
    if not outputs:
        return {"error": _error("prompt_no_outputs", "Prompt has no outputs", ""),
                "node_errors": {}}
    if errors:
        return {"error": _error("prompt_outputs_failed_validation",
                                "Prompt outputs failed validation", ""),
                "node_errors": {k: {"errors": v, "dependent_outputs": outputs,
                                    "class_type": graph[k]["class_type"]}
                                for k, v in errors.items()}}
    return None


def _node_errors(node_id: str, node: Mapping[str, Any], graph: Mapping[str, Any],
                 files: Collection[str]) -> list[dict[str, Any]]:
    declared = NODES[node["class_type"]]
    raw = node.get("inputs")
    inputs: dict[str, Any] = raw if isinstance(raw, dict) else {}
    problems = [_error("required_input_missing", "Required input is missing", name)
                for name in declared.required if name not in inputs]
    for name, value in inputs.items():
        if isinstance(value, list) and len(value) == 2 and str(value[0]) not in graph:
            problems.append(_error("bad_linked_input", "Bad linked input, must be a length-2 "
                                   "list of [node_id, slot_index]", name))
        elif isinstance(value, str) and "{{" in value:
            problems.append(_error("invalid_input_type", "a placeholder was sent unfilled",
                                   f"{name}: {value}"))
    if declared.loads and isinstance(inputs.get(declared.loads), str) \
            and inputs[declared.loads] not in files:
        problems.append(_error("value_not_in_list", f"Invalid {declared.loads} file",
                               f"{declared.loads}: '{inputs[declared.loads]}' not in input"))
    return problems
