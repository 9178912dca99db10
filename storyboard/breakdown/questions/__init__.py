"""What each call asks: the instructions, the JSON schemas, the density rule."""
