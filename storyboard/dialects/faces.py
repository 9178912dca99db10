"""A real-person refusal of a submit into the character whose picture it was, and the fix.

Seedance on Ark and ModelArk refuses a reference picture it takes for a real person's face
(``InputImageSensitiveContentDetected.PrivacyInformation``, "may contain real person";
models-2026-11.md, "Faces"). The answer is read for the item it names: its place in the body's
``content`` array (``content[2]``) or its label ("Image 2", numbered per kind in array order, as
the prompt names it); else every picture that went by URL is a candidate. Each is said with its
character and the fix: the face registered once in the vendor's portrait library and declared
under the character's ``identity:``. Sending the same picture again is refused again, so the
runner never resends it (a refusal is not retried).
"""

from __future__ import annotations

import re

from storyboard.language.request import MediaItem, ShotRequest
from storyboard.targets.wire.gateways import IDENTITY_DOCS, Target

IMAGE_ROLES = ("reference_image", "first_frame", "middle_frame", "last_frame")  # sent as ``image_url`` items
_POSITION = re.compile(r"content\[(\d+)\]")
_LABEL = re.compile(r"\bImage (\d+)\b")


def attributed(request: ShotRequest, target: Target, message: str) -> str:
    """Which picture was taken for a real person, whose it is, and how to send the face."""
    pictures = [(n, m) for n, m in enumerate(request.media, start=1)
                if m.role in IMAGE_ROLES]
    labels = {item: f"Image {index}" for index, (_, item) in enumerate(pictures, start=1)}
    named = _named(message, pictures)
    by_url = [m for _, m in pictures if not _registered(m, target)]
    if named is not None:
        said = f"the picture refused is {_whose(named, labels[named])}"
        who = [named]
    elif not by_url:
        return ("the answer names no picture, and every picture went as a registered portrait: "
                "each must be Active in the vendor's portrait library "
                f"({IDENTITY_DOCS})")
    else:
        said = ("the answer names no picture; those sent by URL: "
                + ", ".join(_whose(m, labels[m]) for m in by_url))
        who = by_url
    characters = sorted({m.character for m in who if m.character is not None})
    key = target.identity_key or target.name
    faces = "the face of" if len(characters) == 1 else "the faces of"
    fix = (f"register {faces} {_list(characters)} in the vendor's portrait library and declare "
           f"it: characters.{characters[0] if len(characters) == 1 else 'NAME'}.identity: "
           f"{{{key}: {{asset: ID}}}}" if characters else
           "a frame is not a character: send a picture without a real person's face")
    return (f"{said}; {fix} ({IDENTITY_DOCS}); sent again by URL it would be refused again")


def _named(message: str, pictures: list[tuple[int, MediaItem]]) -> MediaItem | None:
    """The picture the answer names by its place in ``content`` (the prompt is item 0) or by
    its label; None when it names none."""
    found = _POSITION.search(message)
    if found is not None:
        at = int(found.group(1))
        return next((m for n, m in pictures if n == at), None)
    found = _LABEL.search(message)
    if found is not None and 0 < int(found.group(1)) <= len(pictures):
        return pictures[int(found.group(1)) - 1][1]
    return None


def _registered(item: MediaItem, target: Target) -> bool:
    return item.ref is not None and item.ref.url is not None \
        and target.names_identity(item.ref.url)


def _whose(item: MediaItem, label: str) -> str:
    if item.character is not None:
        return f"{item.character}'s picture ({label})"
    return f"the {item.role.replace('_', ' ')} ({label})"


def _list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
