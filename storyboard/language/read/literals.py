"""Inline values into verdicts: card colours, URLs and ``data:`` URIs, checked before anyone uses them.

A card colour reaches ffmpeg's ``color`` source and ``drawtext``; a ``data:`` URI is sent to the
provider as it is written. Both are checked at ``check`` time against a strict grammar, so a value
that would fail after paying (or be read as more than one value) is reported at its line instead:
a colour is one of ffmpeg's 140 names or ``#RRGGBB`` / ``0xRRGGBB`` (with an optional alpha byte),
and a ``data:`` URI is ``data:<type>;base64,<payload>`` whose payload decodes strictly and whose
first bytes are the type it claims. A reference's URL is ``https://``, ``oss://`` or ``data:``: a
plain ``http://`` URL, or one whose host is an address no service could fetch for the user (a
link-local, loopback or private IP such as 169.254.169.254), is refused at its line.
"""

from __future__ import annotations

import binascii
import io
import ipaddress
import math
import re
from urllib.parse import urlsplit

from storyboard.media import imagehead
from storyboard.media.imagehead import sniff

# ffmpeg -colors (libavutil/parseutils.c), lower-cased.
_NAMES = """
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet
brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue
darkcyan darkgoldenrod darkgray darkgreen darkkhaki darkmagenta darkolivegreen darkorange
darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray darkturquoise darkviolet
deeppink deepskyblue dimgray dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro
ghostwhite gold goldenrod gray green greenyellow honeydew hotpink indianred indigo ivory khaki
lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan lightgoldenrodyellow
lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray
lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine mediumblue
mediumorchid mediumpurple mediumseagreen mediumslateblue mediumspringgreen mediumturquoise
mediumvioletred midnightblue mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab
orange orangered orchid palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff
peru pink plum powderblue purple red rosybrown royalblue saddlebrown salmon sandybrown seagreen
seashell sienna silver skyblue slateblue slategray snow springgreen steelblue tan teal thistle
tomato turquoise violet wheat white whitesmoke yellow yellowgreen
"""
COLOR_NAMES = frozenset(_NAMES.split())
_HEX = re.compile(r"(?:#|0x)[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")

# What each claimed type must sniff as (``media.sniff``).
DATA_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": ("png",), "image/jpeg": ("jpeg",), "image/jpg": ("jpeg",),
    "image/bmp": ("bmp",), "image/webp": ("webp",),
    "audio/wav": ("wav",), "audio/x-wav": ("wav",), "audio/wave": ("wav",),
    "audio/mpeg": ("mp3",), "audio/mp3": ("mp3",),
    "video/mp4": ("mp4", "mov"), "video/quicktime": ("mov", "mp4"),
}
_DATA = re.compile(r"data:(?P<type>[a-z0-9.+-]+/[a-z0-9.+-]+)(?P<params>(?:;[^;,]*)*),"
                   r"(?P<payload>.*)", re.S | re.I)


def color_problem(value: str) -> str | None:
    """What is wrong with a card colour, or None when it is one."""
    if value.lower() in COLOR_NAMES or _HEX.fullmatch(value):
        return None
    shown = value if len(value) <= 60 else value[:57] + "..."
    return (f"{shown!r} is not a colour; expected a name such as black or white, or #RRGGBB / "
            "0xRRGGBB (optionally with an alpha byte, #RRGGBBAA)")


def url_problem(value: str) -> str | None:
    """What is wrong with a reference's URL (``http://``, an address only this machine or its
    network reaches), or None when it is one a service may fetch."""
    shown = value if len(value) <= 60 else value[:57] + "..."
    if value[:7].lower() == "http://":
        return (f"{shown!r} is a plain http:// URL; expected https://, oss:// or data: (or a "
                "path inside the series folder)")
    if value[:8].lower() != "https://":
        return None
    try:
        host = urlsplit(value).hostname or ""
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name, not an address: the service resolves it
    if address.is_global:
        return None
    return (f"{shown!r} names {host}, a link-local, loopback or private address no service "
            "can fetch; expected a public https:// URL, oss:// or data:")


def data_uri_problem(value: str) -> str | None:
    """What is wrong with a ``data:`` URI, or None when its payload is the type it claims."""
    match = _DATA.fullmatch(value)
    if match is None:
        return "a data: URI must look like data:<type>;base64,<payload>"
    claimed = match["type"].lower()
    if ";base64" not in match["params"].lower():
        return f"a data: URI must be base64 (data:{claimed};base64,...)"
    expected = DATA_TYPES.get(claimed)
    if expected is None:
        return (f"data: type {claimed!r} is not accepted; expected one of "
                f"{', '.join(sorted(DATA_TYPES))}")
    try:
        payload = binascii.a2b_base64(match["payload"].strip(), strict_mode=True)
    except (binascii.Error, ValueError):
        return "the data: URI's payload is not valid base64"
    found = sniff(payload[:32])
    if found not in expected:
        what = "of unknown type" if found == "unknown" else f"a {found.upper()}"
        return f"the data: URI claims {claimed}, but its content is {what}"
    large = imagehead.over_limit(imagehead.read_size(io.BytesIO(payload), found))
    if large is not None:  # never decoded: a few KB can unpack to gigabytes
        side = math.isqrt(imagehead.MAX_PIXELS)
        return (f"the data: URI's picture is {large[0]}x{large[1]} pixels; expected at most "
                f"{side}x{side}")
    return None
