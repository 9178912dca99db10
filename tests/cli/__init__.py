"""Tests of the command line (storyboard/cli/)."""
