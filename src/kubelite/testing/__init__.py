"""kubelite.testing."""
