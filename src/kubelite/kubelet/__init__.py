"""kubelite.kubelet."""
