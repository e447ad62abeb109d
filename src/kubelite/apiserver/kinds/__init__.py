"""Per-kind strategies: what each kind adds to the generic store (``registry/<group>/<kind>``).

:mod:`.strategy` defines the :class:`~.strategy.Strategy` (and the generic default),
one module per kind or small group holds the kind's strategy, and :mod:`.table` maps
each kind to it.
"""
