"""Tests of each wire dialect and its vendors (storyboard/dialects/)."""
