"""Tests of storyboard init (storyboard/scaffold/)."""
