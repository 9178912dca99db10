"""A still sent on to a video model into the copy it takes: the model's bounds, ``media.inputs.fit``'s copy.

What a video model takes of a picture (a board, a first frame, a reference) is decided once, here:
its declaration's ``image_rule`` (the longest side, the file size) and never past
``fit.SEND_SIDE``; a model with no rule (or one unknown, a ComfyUI workflow's) takes
``fit.SEND_SIDE`` and any size. Every provider that sends pictures on (DashScope's uploads, a
gateway's hosted copies, ComfyUI's uploads) asks ``sendable``, so they scale alike.
"""

from __future__ import annotations

from pathlib import Path

from storyboard.files import STATE_DIR, state_folder
from storyboard.language.request import MediaRef
from storyboard.media.inputs import fit
from storyboard.targets.video.models import model_of

SENT = "sent"  # .storyboard/sent/: the scaled copies a gateway fetches (the user hosts them)


def bounds(model_id: str) -> tuple[int, int]:
    """The longest side and the most bytes (0: any) ``model_id`` takes of a still."""
    model = model_of(model_id)
    rule = model.image_rule if model is not None else None
    if rule is None:
        return fit.SEND_SIDE, 0
    return min(rule.max_side or fit.SEND_SIDE, fit.SEND_SIDE), int(rule.max_mb * 1024 * 1024)


def sendable(path: Path, model_id: str, folder: Path) -> Path:
    """``path`` as ``model_id`` takes it: itself when it fits (or is no picture), else its
    scaled copy in ``folder`` (named by its content and size: the same still, the same file)."""
    longest, most = bounds(model_id)
    return fit.fitted(path, folder, longest=longest, max_bytes=most)


def sent_folder(root: Path) -> Path:
    """Where a series keeps the scaled copies it sends by URL: ``.storyboard/sent/``."""
    return state_folder(root / STATE_DIR / SENT)


def hosted(ref: MediaRef, model_id: str, root: Path) -> MediaRef:
    """A file a gateway fetches from the hosted series folder, as ``model_id`` takes it: a
    still inside ``root`` larger than that is named by its scaled copy in ``.storyboard/sent/``
    (which the user hosts with the rest); anything else as it is."""
    path = ref.path
    if path is None or not path.resolve().is_relative_to(root.resolve()):
        return ref  # a URL, or a file outside the folder (check refuses it)
    copy = sendable(path, model_id, sent_folder(root))
    return ref if copy == path else MediaRef(path=copy)
