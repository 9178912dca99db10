"""Tests of packaging, docs, CI, the import graph, the examples, the public API."""
