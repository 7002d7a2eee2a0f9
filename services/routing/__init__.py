"""routing: the only owner of the database — dedup, backup, route, outbox."""
