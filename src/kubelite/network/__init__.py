"""kubelite.network."""
