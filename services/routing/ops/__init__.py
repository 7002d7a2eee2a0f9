"""The operations run on routing's records (OperationsService): reading customers, the
staff registry, the user directory, failed jobs, API keys and the audit log. Each
module is one concern; operations_api.py translates protobuf to them and back."""
