"""Routing's decisions as plain Python: what an update is, and where it must go.
No I/O here (no grpc, aiohttp, sqlalchemy or aiogram imports)."""
