"""A compiled series into episodes to stitch: cards, clips, cues and music (``episodes``), the
``delivery:`` block (``delivery``), lines heard over a take (``heard``), the episode clock every
exporter reads (``cut``)."""
