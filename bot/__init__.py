"""kyodo-desk conversation core: the engine, forms, replies, and the services it needs (runtime, cases, indicators, reports)."""
