"""The conversation: a batch of updates recorded, each client line carried to staff and
each staff line to the client, with the edits, reactions, deletes, albums and replies
that follow them, blocked clients, staff commands and deleted topics."""
