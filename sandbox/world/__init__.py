"""The sandbox's state: people, bots, chats, topics, messages and files."""
