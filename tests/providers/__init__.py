"""Tests of who renders (storyboard/providers/)."""
