"""A season's shape, computed before any call: the skeleton and the story's cut."""
