"""kyodo-desk core: conversation engine, message model, settings, app factory and CLI."""
