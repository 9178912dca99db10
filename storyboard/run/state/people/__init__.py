"""Takes' people into findings: who is in each take and what they wear, judged against the
pictures the shot declares (``identity``, ``look``) and the episode's light (``grade``)."""
