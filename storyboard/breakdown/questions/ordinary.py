"""A name made only of ordinary words (``I``, ``the rest``, ``my friend``): no person, place or
prop, wherever a cast answer gives one (the cast's check, the ``ordinary-entry`` repair)."""

from __future__ import annotations

import functools
import re

ORDINARY_WORDS = """
a an the all any both each every few many most much no none some such this that these those my
your his her its our their mine yours hers ours theirs me him us them i you he she it we they who
whom whose which what whatever whoever one ones other others another own same self round about
above across after against along among around at before behind below beneath beside between
beyond by down during for from in inside into near of off on onto out outside over past through
to toward towards under until up upon with within without and but or nor so yet if then than
because while when where why how here there now once again also only just still even ever never
always often soon well yes no not oh ah alas lo ha hey hello goodbye please thank thanks sir madam
mistress master lord lady mr mrs miss dear good bad old young little big great new first last
next everyone everybody nobody someone somebody anyone anybody everything something nothing
anything thing things way day night morning evening time
"""
ORDINARY = frozenset(ORDINARY_WORDS.split())


WORD = re.compile(r"[^\W\d_]+")


@functools.lru_cache(maxsize=4096)  # a season's walk asks of each cast name at every shot
def ordinary(name: str) -> bool:
    """Whether ``name`` is made only of ordinary words (not a person, place or prop's name)."""
    words = WORD.findall(name.lower())
    return not words or all(word in ORDINARY for word in words)
