"""The operations run on routing's records (OperationsService): reading customers, the
staff registry, the user directory, failed jobs, API keys and the audit log. Each
module is one concern; api/operations_servicer.py translates protobuf to them and back."""
