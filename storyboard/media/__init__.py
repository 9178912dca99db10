"""Files into facts and ffmpeg into one door: probes, the binary choice, the ffmpeg runner, test sources.

Only this package starts ffmpeg (``ffmpeg.run``); every stage above it asks through it.
"""
