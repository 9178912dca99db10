"""Tests of a story into a series by a language model (storyboard/breakdown/)."""
