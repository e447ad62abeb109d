"""kubelite.apiserver."""
