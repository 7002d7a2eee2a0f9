"""The outbox: delivery jobs written in the transaction that decided them, handed out
one destination head at a time by the relay through a dispatcher, claimed and reported
by delivery."""
