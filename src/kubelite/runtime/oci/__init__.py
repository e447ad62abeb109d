"""The OCI runtime: runc (cgroupfs) + conmon + overlayfs + a CNI pod network."""

from kubelite.runtime.oci.killall import killall
from kubelite.runtime.oci.runtime import OciRuntime

__all__ = ["OciRuntime", "killall"]
