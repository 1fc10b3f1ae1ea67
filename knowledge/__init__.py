"""The knowledge base: editable entry files, Japanese analysis, the index and answer building."""
