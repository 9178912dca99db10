"""A language tag held to BCP-47's form and to the languages there are, and a wrong one read as meant.

A tag of ``languages:`` is a language (ISO 639: two letters, or three), optionally a script
(``Hans``) and a region (``BR``, ``419``), joined by ``-``: ``FORM`` (the schema's pattern). A tag
of that form whose two-letter language ISO 639-1 does not list (``sp``) names no language; a
three-letter one is taken as ISO 639-2/3 names it. A wrong tag is said once, at its place in the
list, with what it most likely means: ``es_ES`` is ``es-ES`` (the separator and the case put
right), ``sp`` is ``es`` (a country's code or a language's English name for its language's).
"""

from __future__ import annotations

import re

FORM = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da
de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz
ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln
lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi
pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"""  # ISO 639-1
ISO_639_1 = frozenset(CODES.split())
# What people write for a language that is not its code: a country's code, a retired code, its
# English (or own) name.
MEANT = {"sp": "es", "jp": "ja", "cn": "zh", "gr": "el", "dk": "da", "cz": "cs", "ua": "uk",
         "vn": "vi", "iw": "he", "in": "id", "ji": "yi",
         "english": "en", "spanish": "es", "espanol": "es", "español": "es", "castellano": "es",
         "chinese": "zh", "mandarin": "zh", "german": "de", "deutsch": "de", "french": "fr",
         "francais": "fr", "français": "fr", "italian": "it", "italiano": "it",
         "portuguese": "pt", "portugues": "pt", "português": "pt", "japanese": "ja",
         "korean": "ko", "russian": "ru", "arabic": "ar", "hindi": "hi", "dutch": "nl"}
EXPECTED = ("a BCP-47 tag: a language as ISO 639 codes it, optionally a script and a region, "
            "joined by '-': en, es, pt-BR, zh-Hans, es-419")


def is_tag(tag: str) -> bool:
    """A tag of the form that names a language there is."""
    return problem(tag) is None


def problem(tag: str) -> str | None:
    """What is wrong with ``tag`` as a language tag, with what it likely means (None: nothing)."""
    if FORM.match(tag) and (len(tag.split("-")[0]) == 3 or tag.split("-")[0] in ISO_639_1):
        return None
    what = "is not a language tag" if FORM.match(tag) is None else \
        "names no language ISO 639 codes"
    meant = suggestions(tag)
    hint = f" (did you mean {' / '.join(f'`{m}`' for m in meant)}?)" if meant else ""
    return f"{tag!r} {what}{hint}; expected {EXPECTED}"


def suggestions(tag: str) -> list[str]:
    """The tags ``tag`` most likely means, the closest first: its parts put right (``es_ES``:
    ``es-ES``), then its language alone (``es``)."""
    parts = [p for p in re.split(r"[-_\s.]+", tag.strip()) if p]
    if not parts:
        return []
    language = MEANT.get(parts[0].lower(), parts[0].lower())
    if language not in ISO_639_1 and not (len(language) == 3 and language.isalpha()):
        return []
    rest = [_subtag(p) for p in parts[1:]]
    whole = "-".join([language, *(p for p in rest if p)])
    found = [t for t in dict.fromkeys([whole, language]) if FORM.match(t) and t != tag]
    return found


def _subtag(part: str) -> str:
    """A script (``Hans``) or a region (``ES``, ``419``) as BCP-47 writes it; "" for neither."""
    if len(part) == 4 and part.isalpha():
        return part.title()
    if len(part) == 2 and part.isalpha():
        return part.upper()
    return part if len(part) == 3 and part.isdigit() else ""
