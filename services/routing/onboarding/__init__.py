"""Onboarding: a client who is not assigned writes, gives an email, the directory is
asked, CS is prompted, a CS member decides, and the customer's topics are set up."""
