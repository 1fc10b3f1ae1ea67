"""The edges: each module turns one platform's events into core events and core replies into its messages."""
