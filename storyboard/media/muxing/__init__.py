"""A held board's MP4 written in Python, no ffmpeg run: ISO BMFF boxes (``boxes``, shared with
``stitch``'s AAC writer), an x264 stream's pictures held with skipped frames (``h264``), and the
muxing of both (``mp4``)."""
