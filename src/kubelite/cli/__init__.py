"""kubelite.cli."""
