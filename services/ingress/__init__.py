"""ingress: receives Telegram updates (webhooks, or long polling), hands each raw update
to routing in batches, and acknowledges it only once routing has recorded it."""
