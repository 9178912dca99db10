"""Faces and characters into who is who: the assignment that makes the closest pairs overall.

Every face is compared with every declared character's reference faces (the nearest of them
counts); the pairing is an assignment over the whole frame (each face at most one character,
each character at most one face), the one whose distances sum least among those that pair as
many as can be, tried exhaustively over the ``MOST`` largest faces and characters (at most 720
orders), so two characters are never both given the face that resembles each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import permutations

from storyboard.media.faces.record import Face, distance

MOST = 6  # faces (the largest) and characters tried in one frame's assignment
Embeddings = Sequence[tuple[float, ...]]


def nearest(face: Face, references: Embeddings) -> float:
    """How far ``face`` is from the nearest of ``references`` (inf: none)."""
    return min((distance(face.embedding, r) for r in references), default=float("inf"))


def assign(faces: Sequence[Face], known: Mapping[str, Embeddings]) -> list[tuple[Face, str, float]]:
    """Each face paired with a character (name order breaks ties), with its distance."""
    shown = list(faces)[:MOST]
    names = sorted(known)[:MOST]
    if not shown or not names:
        return []
    cost = [[nearest(f, known[n]) for n in names] for f in shown]
    if len(shown) <= len(names):
        tried = [tuple(zip(range(len(shown)), order, strict=True))
                 for order in permutations(range(len(names)), len(shown))]
    else:
        tried = [tuple(zip(order, range(len(names)), strict=True))
                 for order in permutations(range(len(shown)), len(names))]
    best = min(tried, key=lambda pairs: (sum(cost[f][n] for f, n in pairs), pairs))
    return [(shown[f], names[n], cost[f][n]) for f, n in best]
