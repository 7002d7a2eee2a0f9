"""The operations run on routing's records (OperationsService): customers (listing,
importing, assigning, Treatment, sending to them), the staff registry, the user
directory, failed jobs and their retry, the summary, API keys and the audit log. Each
module is one concern; api/operations_servicer.py translates protobuf to them and back."""
