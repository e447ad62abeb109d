"""kubelite.runtime."""
