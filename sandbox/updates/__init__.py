"""Update queues per bot, delivered by webhook or handed out by getUpdates."""
