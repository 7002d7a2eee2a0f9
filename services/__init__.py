"""Switchboard's four services: ingress, routing, delivery, admin."""
