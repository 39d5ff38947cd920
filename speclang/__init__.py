"""The spec's language: Markdown in, an OpenAPI 3.1 document out (codegen.py's first stages).

files.py      where the spec and its OpenAPI documents live; reading the one, rendering the others
errors.py     SpecError: what is wrong, at which line of the spec
markdown.py   the Markdown as a tree of heading sections holding tables, items, paragraphs
types.py      the Type and Constraints columns -> JSON Schema
changelog.py  the Changelog section and semantic versions
events.py     the Events section -> the document's webhooks
builder.py    the section tree -> the OpenAPI document, with the spec line of each part
"""
