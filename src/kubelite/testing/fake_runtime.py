"""Public re-export of the in-memory runtime (see ``kubelite.runtime.fake``)."""

from kubelite.runtime.fake import FakeContainer, FakeProcess, FakeRuntime, FakeSandbox

__all__ = ["FakeContainer", "FakeProcess", "FakeRuntime", "FakeSandbox"]
