"""A series' problems into the ones a person should read: a misspelt section's own errors kept,
the errors it caused left out.

A top-level typo (``charcters:``) hides the section from the compiler, so every mention of a
character it declared is "unknown" and every shot that names one "has no reference". Those are
not problems of their own: the typo's "unknown key ... (did you mean 'characters'?)" says so, with
how many errors it caused, and they are left out until it is fixed. Likewise a value the schema
refuses (``resolution: 4K``) is one cause: what other checks say of the same value is left out.
"""

from __future__ import annotations

import re
from dataclasses import replace

from storyboard.errors import Diagnostic

# What each section, when misspelt, makes the compiler say elsewhere: message beginnings.
CAUSED = {
    "characters": ("unknown character", "unknown speaker", "this shot has no reference",
                   "voice '"),  # "voice 'x' is never used by a character in a shot"
    "voices": ("unknown voice",),
}
_TYPO = re.compile(r"^unknown key '[^']*' \(did you mean '([a-z_]+)'\?\)")


def without_cascades(problems: list[Diagnostic]) -> list[Diagnostic]:
    """``problems`` without those a misspelt top-level section caused; its own error says how
    many it caused. Unchanged when no section is misspelt."""
    problems = _one_per_value(problems)
    typos = {d: m.group(1) for d in problems
             if d.code == "schema-unknown-key" and (m := _TYPO.match(d.message))
             and m.group(1) in CAUSED and d.span is not None and d.span.col == 1}
    if not typos:
        return problems
    prefixes = tuple(p for section in typos.values() for p in CAUSED[section])
    caused = [d for d in problems if d not in typos and d.message.startswith(prefixes)]
    errors = sum(1 for d in caused if d.severity == "error")
    return [_noted(d, errors) if d in typos else d for d in problems if d not in caused]


def _one_per_value(problems: list[Diagnostic]) -> list[Diagnostic]:
    """``problems`` without the errors at a value the schema already refused."""
    refused = {d.span for d in problems if d.code.startswith("schema-") and d.span is not None
               and d.severity == "error"}
    if not refused:
        return problems
    return [d for d in problems if d.code.startswith("schema-") or d.severity != "error"
            or d.span not in refused]


def _noted(typo: Diagnostic, errors: int) -> Diagnostic:
    if not errors:
        return typo
    return replace(typo, message=f"{typo.message}; fix this first: the {errors} error(s) it "
                                 "caused (unknown names, shots without a reference) are not shown")
