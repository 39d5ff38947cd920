"""The breaking-change gate: compare two OpenAPI documents of the contract and judge the release.

changes.py     what a change is: its class, the version bump it needs, where it is
schemas.py     the rules for JSON Schemas, read as a request (widening is safe) or a response
operations.py  the rules for paths, operations, parameters, bodies, responses, security
webhooks.py    the rules for events: what the server sends a receiver, and what it answers
policy.py      semantic versions and the changelog: is every break released as a major?
releases.py    released documents (openapi/releases/), their commits, documents at a git revision
clients.py     the base's TypeScript client compiled against the new types (Node half: clients.mjs)
cli.py         `python codegen.py diff [BASE]` and `python codegen.py release`
"""
