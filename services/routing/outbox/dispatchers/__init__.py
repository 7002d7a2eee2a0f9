"""Dispatch backends behind one interface (an async callable taking a Handout): the
local dispatcher for one machine, Google Cloud Tasks in production."""
