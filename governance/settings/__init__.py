"""Settings, split by integration; every switch is an environment variable (see env.py)."""
