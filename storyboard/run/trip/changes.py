"""A shot's lock entry then and now into the changes that moved its hash: the plan's "why".

``explain`` compares what the lock file recorded for a shot with what it compiles to now and
says each difference in the user's words (the prompt edited, a reference's content changed, a
board another picture now, a parameter from one value to another).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from storyboard.language.request import is_board
from storyboard.run.state.lock.lockfile import LockEntry

ChangeKind = Literal["prompt", "reference", "parameter", "other"]


@dataclass(frozen=True)
class Change:
    """One reason a shot's hash moved since the lock file was written."""

    kind: ChangeKind
    what: str  # "prompt", "Image 1 (mia)", "duration"
    detail: str = ""  # "5 -> 8", "content changed (media/mia.png)"

    def __str__(self) -> str:
        return f"{self.what}: {self.detail}" if self.detail else self.what


def _media_label(name: str, entry: Mapping[str, Any]) -> str:
    character = entry.get("character")
    return f"{name} ({character})" if character else name


def _where(entry: Mapping[str, Any]) -> str:
    return str(entry.get("path") or entry.get("url") or entry.get("from_shot")
               or entry.get("asset") or "")


def _media_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before is None or after is None:
            present = after if after is not None else before
            assert present is not None
            verb = "added" if before is None else "removed"
            changes.append(Change("reference", _media_label(name, present),
                                  f"{verb} ({_where(present)})"))
            continue
        changes.extend(_one_media_changes(name, before, after))
    return changes


def _one_media_changes(name: str, before: Mapping[str, Any],
                       after: Mapping[str, Any]) -> list[Change]:
    label = _media_label(name, after)
    if before.get("role") != after.get("role") or before.get("character") != after.get(
            "character"):
        return [Change("reference", label,
                       f"now {after.get('role')} of {after.get('character') or 'no character'}")]
    changes: list[Change] = []
    if _content(before) != _content(after):
        detail = (f"shot {after['from_shot']} changed, so its last frame will too"
                  if after.get("from_shot") and before.get("from_shot") == after["from_shot"]
                  else _asset_changed(str(after["asset"]))
                  if after.get("asset") and before.get("asset") == after["asset"]
                  else f"content changed ({_where(after)})")
        changes.append(Change("reference", label, detail))
    old_voice, new_voice = before.get("voice") or {}, after.get("voice") or {}
    if _content(old_voice) != _content(new_voice):
        detail = ("voice removed" if not new_voice else "voice added" if not old_voice
                  else "voice changed")
        changes.append(Change("reference", label, f"{detail} ({_where(new_voice or old_voice)})"))
    return changes


def _asset_changed(asset: str) -> str:
    """Why a shot using another take of ``asset`` changed: a board's own words for it."""
    if is_board(asset):
        return f"its board changed ({asset} is another picture now)"
    return f"another take of {asset}"


def _content(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies a reference's content: a file's sha256 (a rename is no change), a URL."""
    if entry.get("sha256"):
        return ("sha256", entry["sha256"])
    return ("where", entry.get("url"), entry.get("from_shot"), entry.get("from_hash"),
            entry.get("asset"), entry.get("asset_hash"))


def explain(old: LockEntry, new: LockEntry) -> tuple[Change, ...]:
    """Why ``new`` (a shot described now) differs from ``old`` (its lock file entry)."""
    changes: list[Change] = []
    if old.get("prompt_sha256") != new["prompt_sha256"]:
        changes.append(Change("prompt", "prompt", "edited"))
    elif old.get("timing_sha256") != new["timing_sha256"]:
        changes.append(Change("prompt", "scene timing", "edited"))
    changes += _media_changes(old.get("media") or {}, new["media"])
    before, after = old.get("parameters") or {}, new["parameters"]
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            shown = ("edited" if name.endswith("_sha256")
                     else f"{before.get(name)} -> {after.get(name)}")
            changes.append(Change("parameter", name.removesuffix("_sha256"), shown))
    if not changes:
        changes.append(Change("other", "compiled request",
                              "changed by a storyboard upgrade (same prompt, media, parameters)"))
    return tuple(changes)
