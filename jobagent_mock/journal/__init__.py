"""The request journal: its entries (masked, redacted), their recorder, a proxy's drift."""
