"""The operations run on routing's records (OperationsService): customers (listing,
importing, assigning, Treatment, sending to them), the staff registry, the user
directory, failed jobs and their retry, the summary, API keys and the audit log. Each
module is one concern; api/operations_<area>.py translate protobuf to them and back
(api/operations_servicer.py hands each RPC to its area)."""
