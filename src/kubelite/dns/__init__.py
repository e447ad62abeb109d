"""The node's cluster DNS server: records from informers, the rest forwarded."""
