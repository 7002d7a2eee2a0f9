"""The driver API under /_sandbox/: act as people, inspect what they see, and steer
the sandbox (scenario, faults, clock, settings)."""
