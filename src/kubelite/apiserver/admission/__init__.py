"""Admission: the plugins a write passes between decoding and storage, one a module.

:mod:`.interface` (the request attributes and the plugin protocol), :mod:`.chain` (runs
them, mutating then validating) and :mod:`.plugins` (which ones, in kube-apiserver's order).
"""
