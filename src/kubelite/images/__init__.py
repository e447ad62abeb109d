"""kubelite.images."""
