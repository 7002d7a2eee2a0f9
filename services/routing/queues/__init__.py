"""Cloud Tasks queues from the lane settings (`python -m services.routing.queues`)."""
