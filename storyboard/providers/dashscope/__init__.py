"""DashScope as a provider: its wire, settings, video tasks and the cast's image, voice and speech calls."""
