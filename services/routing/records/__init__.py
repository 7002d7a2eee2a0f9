"""Records every feature reads: who a line belongs to, where a backed-up message is,
who changed a customer. Below the features and the outbox, above the database."""
