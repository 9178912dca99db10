"""An agent's requests into library calls: the MCP server, whose budget no call can raise.
"""
