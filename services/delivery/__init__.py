"""delivery: drains the lanes and sends through the Bot API with the right bot."""
