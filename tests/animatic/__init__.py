"""Tests of local drawings of shots (storyboard/animatic/)."""
