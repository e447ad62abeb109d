"""The container runtime seam (CRI-shaped) and its implementations.

``kubelite.runtime.protocol`` holds the seam; ``kubelite.runtime.oci`` the runc/conmon
implementation; ``kubelite.runtime.fake`` the in-memory one.
"""
