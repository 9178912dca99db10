"""The transport: a call's body, cache key, window, price, the HTTP POST and its stream."""
