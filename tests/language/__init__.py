"""Tests of load, check, expand, resolve, compile (storyboard/language/)."""
