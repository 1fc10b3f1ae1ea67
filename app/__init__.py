"""The composition root: CLI, server factory, settings, and the wiring of channels, loops and the scheduler."""
