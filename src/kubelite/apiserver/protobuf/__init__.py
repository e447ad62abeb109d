"""The protobuf wire format kubectl sends: descriptors from the kubectl binary and the
decoder of ``application/vnd.kubernetes.protobuf`` bodies."""
