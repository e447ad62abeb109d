"""kubelite.storage."""
