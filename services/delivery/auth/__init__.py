"""Who may push jobs to the delivery worker: Cloud Tasks with a Google-signed OIDC
token, or the local dispatcher with a token it signs. Nothing else gets in."""
