"""The node's service proxy: kube-proxy's nftables mode, fed by informers.

``model`` reads Services and EndpointSlices into typed service ports, ``planner`` turns
them into the whole text of one nftables table (pure), ``nft`` applies that text in one
transaction, and ``proxier`` is the node component that coalesces changes and re-plans.
"""
