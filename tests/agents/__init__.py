"""Tests of the MCP server (storyboard/agents/)."""
