"""kubelite.api."""
