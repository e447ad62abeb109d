"""Kubernetes' streaming protocols, shared by the API server and the kubelet.

- :mod:`.spdy`: SPDY/3.1 frames and compressed header blocks (pure codec).
- :mod:`.spdy_session`: a SPDY connection (streams, replies, FIN/RST, PING echo) over any
  :class:`.bytestream.ByteStream`.
- :mod:`.channel`: the ``v4/v5.channel.k8s.io`` WebSocket channel protocol.
- :mod:`.remotecommand`: exec/attach sessions over WebSocket channels or SPDY streams.
- :mod:`.portforward`: port-forward streams over SPDY (directly or tunnelled in WebSocket).
- :mod:`.upgrade`: raw HTTP/1.1 upgrades in aiohttp (101, then the socket's bytes).
"""
