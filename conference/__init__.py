"""conference."""
