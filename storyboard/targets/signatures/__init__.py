"""Signatures the vendors ask for, made and checked with the standard library: webhook bodies
(``webhooks``), Kling's short-lived tokens (``jwtokens``), Volcengine's V4 requests (``volcsign``)."""
