"""The scheduler: binds pending pods to nodes (filters, then the least-loaded node)."""
