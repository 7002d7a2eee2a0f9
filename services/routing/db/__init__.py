"""routing's database layer: models, engines and sessions, migrations."""
