"""Container probes: startup, liveness and readiness (the kubelet's prober).

``spec`` parses a probe; ``state`` is the pure result state machine of one worker;
``handlers`` run exec, httpGet, tcpSocket and grpc checks; ``manager`` runs one worker
per probe per container and tells the pod worker when a result changes.
"""
