"""The Bot API surface: /bot<token>/<method> and file downloads."""
