"""Telegram webhooks of ingress's bots: register, inspect, remove
(`python -m services.ingress.webhooks`)."""
