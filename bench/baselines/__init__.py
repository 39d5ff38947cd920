"""Reference servers the API is measured against: framework ceiling, tutorial way, raw floor."""
