"""The HTTP edge: what every request passes before and after a handler — CORS, body
admission, request ids and the access log (and its redaction), the log format, the
problem-details response, the docs pages. Knows no tokens, no task rules, no database."""
