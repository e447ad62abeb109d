"""kubelite: Kubernetes for pods, in Python."""

__version__ = "0.1.0"
