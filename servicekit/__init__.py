"""What every Switchboard service needs: settings base, JSON logs, the error
hierarchy, gRPC server/client bootstrap and Prometheus metrics.

Import from the modules themselves (``servicekit.logs``, ``servicekit.grpc_server``…);
nothing here creates anything at import time.
"""
