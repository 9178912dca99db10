"""Declarations into the capability table: a row per model and per wire target, as data or text.

``storyboard models`` prints it, the docs build renders it (``docs/hooks/capability_table.py``): both
read the declarations of ``models.py`` and ``gateways.py``, so the table can never drift from what
the compiler checks and the providers bill. Rows are JSON-ready mappings; ``COLUMNS`` say how each
becomes a cell of text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storyboard.targets.capabilities import PriceTable
from storyboard.targets.taskapi import TaskStatus
from storyboard.targets.video.models import MODELS, Model
from storyboard.targets.wire.gateways import TARGETS, Target

Row = dict[str, Any]
# The groups ``Model.sources`` speaks of (a narrower fact is ``group:what``, ``sizes:4:3, 3:4``).
FACT_GROUPS = ("limits", "ratios", "sizes", "frames", "files", "labels", "prices", "billing")
SHOWN_STATUSES = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED, TaskStatus.FAILED)


@dataclass(frozen=True)
class _Mention:
    kind: str
    index: int


def price_row(table: PriceTable) -> Row:
    return {"currency": table.currency, "rates": dict(table.per_second), "per": table.per,
            "input_video_cap": table.input_video_cap, "text": table.describe()}


def model_row(model: Model) -> Row:
    """One model: what a shot on it may carry, its list prices and where each fact comes from."""
    caps = model.caps
    return {
        "id": model.id, "title": model.title, "snapshots": list(model.snapshots),
        "images": model.max_images, "videos": model.max_videos, "audios": model.max_audios,
        "references": [model.min_references, caps.max_references], "voices": model.voices,
        "frames": list(model.frames), "frames_with_references": model.frames_with_references,
        "needs_frame": model.needs_frame, "needs": list(model.needs),
        "frames_apart": [list(pair) for pair in model.frames_apart],
        "text_only": model.text_only, "board": model.handoff,
        "files": {role: {"kind": rule.kind, "seconds": [rule.min_seconds, rule.max_seconds],
                         "max_mb": rule.max_mb} for role, rule in model.file_rules.items()},
        "image_rule": model.image_rule.describe() if model.image_rule is not None else None,
        "duration": [caps.min_duration, caps.max_duration],
        "lengths": {res: list(seconds) for res, seconds in model.durations.items()},
        "duration_with_video": caps.max_duration_with_video,
        "input_plus_output": model.max_input_plus_output,
        "resolutions": list(caps.resolutions), "ratios": list(caps.ratios) if model.ratio else [],
        "audio_switch": model.audio_switch, "negative_prompt": model.negative_prompt,
        "prompt_extend": model.prompt_extend, "prompt_limit": caps.prompt_limit,
        "labels": model.own_labels(),
        "watermark_default": model.watermark_default,
        "prompt_only": model.prompt_only,
        "audio_only_references": model.audio_only_references,
        "task_types": list(model.task_types),
        "line_routes": list(model.routes),
        "prices": {region: price_row(table) for region, table in model.prices.items()},
        "sources": {group: model.source(group) for group in FACT_GROUPS},
        "third_party": model.third_party(),
    }


def status_words(target: Target) -> dict[str, str]:
    """The word a target says for each state (its first declared, as the dialects answer)."""
    words = target.words or target.protocol.statuses
    said: dict[str, str] = {}
    for word, status in words.items():
        said.setdefault(status.value, word)
    return {s.value: said[s.value] for s in SHOWN_STATUSES if s.value in said}


def voice_handling(target: Target) -> str:
    limits = target.limits
    if not limits.voice_roles or not limits.max_voices:
        return "none"
    if limits.voice_to_first_image:
        return f"{limits.max_voices}, unbound: spoken by the first image"
    return f"on {', '.join(limits.voice_roles)} (<= {limits.max_voices})"


def target_row(target: Target) -> Row:
    """One wire target: the models it sells and how it takes a shot of them."""
    limits = target.limits
    files = "public URLs" if limits.public_urls else "uploads, URLs or data: URIs"
    return {
        "name": target.name, "title": target.title, "models": list(target.models),
        "labels": [target.label(_Mention(kind, 1)) for kind in ("image", "video")],
        "duration": [limits.min_duration, limits.max_duration],
        "duration_with_video": limits.max_duration_with_video,
        "references": [limits.min_references, limits.max_references],
        "voices": voice_handling(target), "first_frame": limits.first_frame,
        "files": files + (" (https only)" if limits.https_only else ""),
        "statuses": status_words(target),
        "prices": {region: price_row(table) for region, table in target.protocol.prices.items()},
        "third_party": [key for key, source in target.sources.items() if source == "third-party"],
    }


def capability_table(models: Iterable[Model] | None = None,
                     targets: Iterable[Target] | None = None) -> dict[str, list[Row]]:
    """Every model's row and every target's (the declared ones unless given)."""
    return {"models": [model_row(m) for m in (MODELS.values() if models is None else models)],
            "targets": [target_row(t) for t in (TARGETS.values() if targets is None else targets)]}


# --- rows into text ------------------------------------------------------------------------------


def _yes(value: object) -> str:
    return "yes" if value else "no"


def _span(pair: Sequence[int]) -> str:
    return f"{pair[0]}-{pair[1]}" if pair[0] != pair[1] else str(pair[0])


def _duration(row: Row) -> str:
    lengths = row.get("lengths") or {}
    if lengths:  # only some lengths, by resolution (Hailuo 2.3)
        return "; ".join(f"{' or '.join(map(str, seconds))} s at {res}"
                         for res, seconds in lengths.items())
    text = _span(row["duration"]) + " s"
    if row["duration_with_video"] < row["duration"][1]:
        text += f" ({row['duration_with_video']} with a video)"
    if row.get("input_plus_output"):
        text += f" (videos + output <= {row['input_plus_output']})"
    return text


def _frames(row: Row) -> str:
    frames = ", ".join(row["frames"]) or "none"
    apart = "".join(f"; {a} or {b}, not both" for a, b in row.get("frames_apart", []))
    if row["needs_frame"]:
        needed = NEEDED.get(tuple(row.get("needs", ())), " or ".join(row.get("needs", ())))
        return frames + f" ({needed} needed{apart})"
    return frames + ("" if row["frames_with_references"] else " (not with references)")


def _files(row: Row) -> str:
    """The model's own rules for input files: ``images >= 300 px short side, 1:2.5..2.5:1``,
    ``first_clip 2-10 s, <= 100 MB``."""
    rules = [f"images {row['image_rule']}"] if row.get("image_rule") else []
    rules += [f"{role} {rule['seconds'][0]:g}-{rule['seconds'][1]:g} s, <= {rule['max_mb']:g} MB"
              for role, rule in row.get("files", {}).items()]
    return "; ".join(rules) or "-"


def _prices(row: Row) -> str:
    return "; ".join(f"{region}: {p['text']}" for region, p in row["prices"].items())


# How a table says which frame a model needs.
NEEDED = {("first_frame", "first_clip"): "a first frame or clip", ("first_frame",): "a first frame",
          ("source_video",): "a video to edit"}


def _billing(row: Row) -> str:
    caps = {p["input_video_cap"] for p in row["prices"].values()}
    return ", ".join(f"input video billed up to {cap:g} s" if cap else "output seconds only"
                     for cap in sorted(caps))


def _labels(row: Row) -> str:
    """How the prompt names the first image, where the model spells it its own way."""
    own = [f'"{label}" on {target}' for target, label in row.get("labels", {}).items()]
    return ", ".join(own) or ("-" if row["prompt_only"] or not row["images"] else "the target's")


def _sources(row: Row) -> str:
    """``official``, or the third-party facts (``third-party: sizes (4:3, 3:4), prices``)."""
    third: list[str] = []
    for key in row["third_party"]:
        group, _, narrow = key.partition(":")
        third.append(f"{group} ({narrow.strip()})" if narrow else group)
    return "third-party: " + ", ".join(third) if third else "official"


Column = tuple[str, Callable[[Row], str]]
# What a shot's board becomes on each model (``Model.handoff``), in words.
BOARD_WORDS = {"beside": "first frame, beside the references", "alone": "first frame",
               "exclusive": "first frame or references (boards: {as: ...})",
               "reference": "a reference image", "none": "nothing (no board)"}

MODEL_COLUMNS: tuple[Column, ...] = (
    ("model", lambda r: r["id"]),
    ("snapshots", lambda r: ", ".join(r["snapshots"]) or "-"),
    ("images / videos / audio", lambda r: f"{r['images']} / {r['videos']} / {r['audios']}"),
    ("references", lambda r: _span(r["references"])),
    ("voices", lambda r: r["voices"]),
    ("frames", _frames),
    ("a board becomes", lambda r: BOARD_WORDS[r["board"]]),
    ("file limits", _files),
    ("duration", _duration),
    ("resolutions", lambda r: ", ".join(r["resolutions"])),
    ("ratios", lambda r: ", ".join(r["ratios"]) or "the first frame's"),
    ("labels", _labels),
    ("audio switch", lambda r: _yes(r["audio_switch"])),
    ("watermark by default", lambda r: _yes(r["watermark_default"])),
    ("negative_prompt / prompt_extend",
     lambda r: f"{_yes(r['negative_prompt'])} / {_yes(r['prompt_extend'])}"),
    ("prompt limit", lambda r: str(r["prompt_limit"])),
    ("task types", lambda r: ", ".join(r["task_types"]) or "-"),
    ("line routes", lambda r: ", ".join(r["line_routes"])),
    ("list prices", _prices),
    ("billing", _billing),
    ("sources", _sources),
)

TARGET_COLUMNS: tuple[Column, ...] = (
    ("target", lambda r: r["name"]),
    ("models", lambda r: ", ".join(r["models"])),
    ("labels", lambda r: ", ".join(f'"{label}"' for label in r["labels"])),
    ("duration", _duration),
    ("references", lambda r: _span(r["references"])),
    ("reference voices", lambda r: r["voices"]),
    ("first frame", lambda r: _yes(r["first_frame"])),
    ("files", lambda r: r["files"]),
    ("status words", lambda r: " / ".join(r["statuses"].values())),
    ("prices (wan2.7-r2v)", _prices),
    ("sources", _sources),
)


def cells(rows: Iterable[Row], columns: Sequence[Column]) -> list[list[str]]:
    return [[cell(row) for _, cell in columns] for row in rows]


def _markdown_table(rows: Iterable[Row], columns: Sequence[Column]) -> str:
    def line(values: Iterable[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"
    body = [line(h for h, _ in columns), "|" + "---|" * len(columns)]
    return "\n".join(body + [line(values) for values in cells(rows, columns)])


def _table(table: Mapping[str, list[Row]] | None) -> Mapping[str, list[Row]]:
    return capability_table() if table is None else table


def models_markdown(table: Mapping[str, list[Row]] | None = None) -> str:
    """The models' table in markdown: a row per model."""
    return _markdown_table(_table(table)["models"], MODEL_COLUMNS) + "\n"


def targets_markdown(table: Mapping[str, list[Row]] | None = None) -> str:
    """The wire targets' table in markdown: a row per target."""
    return _markdown_table(_table(table)["targets"], TARGET_COLUMNS) + "\n"


def _source_of(group: str) -> Callable[[Row], str]:
    def cell(row: Row) -> str:
        narrow = [key.partition(":")[2].strip() for key in row["third_party"]
                  if key.startswith(group + ":")]
        return f"third-party ({', '.join(narrow)})" if narrow else str(row["sources"][group])
    return cell


def sources_markdown(table: Mapping[str, list[Row]] | None = None) -> str:
    """Where each model's facts come from: a row per model, a column per group of facts."""
    columns: list[Column] = [("model", lambda r: r["id"])]
    columns += [(group, _source_of(group)) for group in FACT_GROUPS]
    return _markdown_table(_table(table)["models"], columns) + "\n"


def markdown(table: Mapping[str, list[Row]] | None = None) -> str:
    """The capability table as two markdown tables: models, then wire targets."""
    return models_markdown(table) + "\n" + targets_markdown(table)
