"""Shot requests, native bodies and card text into animatic MP4s: the drawing, with ffmpeg.

Below both who renders (``providers.local``, the emulator) and the stitcher (title and end
cards): ``draw`` turns a neutral ``Animatic`` spec into one ffmpeg run, ``shots`` builds the spec
of a shot request or a native body, ``cards`` draws title and end cards, ``cache`` names the
cache folders by the renderer's version.
"""

from storyboard.animatic.cachenames import RENDERER_VERSION, cache_key, draws_captions
from storyboard.animatic.cards import render_card
from storyboard.animatic.draw import Animatic
from storyboard.animatic.shots import body_animatic, render_body, render_shot, shot_animatic

__all__ = ["RENDERER_VERSION", "Animatic", "body_animatic", "cache_key", "draws_captions",
           "render_body", "render_card", "render_shot", "shot_animatic"]
