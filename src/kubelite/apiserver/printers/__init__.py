"""Server-side Tables for ``kubectl get``: the Table machinery and the per-group printers
(``pkg/printers/internalversion``)."""
