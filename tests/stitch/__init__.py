"""Tests of episodes from shots (storyboard/stitch/)."""
