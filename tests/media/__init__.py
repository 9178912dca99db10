"""Tests of ffmpeg, its binaries and media facts (storyboard/media/)."""
