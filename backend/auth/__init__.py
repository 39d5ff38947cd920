"""Tokens: a bearer token in, verified claims out (a shared secret or a JWKS URL's keys),
and the developer command that mints one. Plain classes over plain values: no HTTP, no
database."""
