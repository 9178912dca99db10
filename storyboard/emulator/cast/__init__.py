"""The cast's services on loopback: DashScope's image generation, voice design and speech.

``assets`` checks and draws the reference pictures, ``voices`` designs voices and speaks lines,
``standins`` makes their deterministic PNGs and WAVs; ``emulator/castroutes.py`` answers the HTTP
side.
"""
