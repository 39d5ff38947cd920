"""The hand-written server of the Todo API."""
