"""The section tree -> an OpenAPI 3.1 document, with the spec line each part comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from speclang.changelog import SEMANTIC_VERSION, ChangelogEntry, read_changelog, render_changelog
from speclang.errors import SpecError
from speclang.events import read_events
from speclang.example_render import render_examples
from speclang.examples import Example, read_examples
from speclang.markdown import Row, Section, read_sections
from speclang.types import (
    PARAMETER_LOCATIONS,
    apply_constraints,
    parse_type,
    require_cell,
    yes_no,
)

OPENAPI_VERSION = "3.1.0"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
KNOWN_STATUS_CODES = {
    100,
    101,
    102,
    103,
    200,
    201,
    202,
    203,
    204,
    205,
    206,
    207,
    208,
    226,
    300,
    301,
    302,
    303,
    304,
    307,
    308,
    400,
    401,
    402,
    403,
    404,
    405,
    406,
    407,
    408,
    409,
    410,
    411,
    412,
    413,
    414,
    415,
    416,
    417,
    421,
    422,
    423,
    424,
    425,
    426,
    428,
    429,
    431,
    451,
    500,
    501,
    502,
    503,
    504,
    505,
    506,
    507,
    508,
    510,
    511,
}


def json_pointer(*parts: str) -> str:
    """An RFC 6901 pointer into the OpenAPI document (`/` in a part is `~1`)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


CONTACT_PATTERN = re.compile(r"(?P<name>[^<>]*?)\s*(?:<(?P<address>[^<>\s]+)>)?")


def contact(row: Row) -> dict[str, str]:
    """`Name`, `Name <email>` or `Name <https://url>` -> info.contact."""
    value = row.cells["Value"].source.strip()  # the source: markdown-it drops autolinks' <>
    match = CONTACT_PATTERN.fullmatch(value)
    if match is None or not match["name"]:
        raise SpecError(
            row.line, f"contact '{value}' is not 'Name', 'Name <email>' or 'Name <URL>'"
        )
    found = {"name": match["name"]}
    address = match["address"]
    if address is not None:
        found["url" if re.match(r"https?://", address) else "email"] = address
    return found


FIELD_COLUMNS = ("Field", "Type", "Required", "Constraints", "Description")
ENUM_COLUMNS = ("Value", "Description")
PARAMETER_COLUMNS = ("Name", "In", "Type", "Required", "Constraints", "Description")
BODY_COLUMNS = ("Media type", "Schema", "Required", "Description")
RESPONSE_COLUMNS = ("Status", "Schema", "Headers", "Description")
LINK_COLUMNS = ("Status", "Name", "Operation", "Parameters", "Description")
OPERATION_SECTIONS = ("parameters", "request body", "responses", "links")
OPERATION_ITEMS = {
    "operation id": "Operation ID",
    "summary": "Summary",
    "tags": "Tags",
    "security": "Security",
}
OPERATION_KEYS = {
    "operation id": "operationId",
    "summary": "summary",
    "tags": "tags",
    "security": "security",
}


@dataclass(frozen=True)
class Contract:
    """A built contract: the OpenAPI document, where its parts come from, and the changelog."""

    document: dict[str, Any]
    locations: dict[str, int]  # JSON pointer into the document -> line of the spec
    changelog: list[ChangelogEntry]
    examples: list[Example] = field(default_factory=list)


@dataclass
class Builder:
    """Turns the section tree into an OpenAPI 3.1 document."""

    root: Section
    locations: dict[str, int] = field(default_factory=dict)
    changelog: list[ChangelogEntry] = field(default_factory=list)
    schema_names: set[str] = field(default_factory=set)
    enum_values: dict[str, list[str]] = field(default_factory=dict)
    media_types: dict[str, str] = field(default_factory=dict)
    header_names: set[str] = field(default_factory=set)
    operation_ids: dict[str, int] = field(default_factory=dict)
    pending_links: list[tuple[int, str]] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    # Lines of the rows of the operation being built, for `locations`.
    parameter_lines: list[int] = field(default_factory=list)
    body_lines: dict[str, int] = field(default_factory=dict)
    response_lines: dict[str, int] = field(default_factory=dict)

    def locate(self, line: int, *parts: str) -> str:
        """Remember that the document's part at this pointer comes from `line` of the spec."""
        pointer = json_pointer(*parts)
        self.locations[pointer] = line
        return pointer

    def build(self) -> dict[str, Any]:
        titles = [s for s in self.root.children if s.level == 1]
        if len(titles) != 1:
            raise SpecError(1, "the spec needs exactly one '# Title' heading")
        api = titles[0]
        info_rows = {
            r.text("Field").lower(): r
            for r in api.require_child("Info").table(("Field", "Value")).rows
        }
        if "version" not in info_rows:
            raise SpecError(api.require_child("Info").line, "the Info table needs a 'Version' row")
        for key, row in info_rows.items():
            self.locate(row.line, "info", key)
        version_row = info_rows["version"]
        version = version_row.text("Value")
        if SEMANTIC_VERSION.fullmatch(version) is None:
            raise SpecError(
                version_row.line,
                f"Version '{version}' is not a semantic version MAJOR.MINOR.PATCH (e.g. 1.2.0)",
            )
        self.locate(version_row.line, "info", "version")
        info: dict[str, Any] = {"title": api.title, "version": version}
        descriptions = list(api.paragraphs)
        events = api.child("Events")
        if events is not None and events.paragraphs:
            # Redoc and Swagger UI show webhooks without a place for what they share: the
            # intro (signatures, retries, ordering) is a section of the API's description.
            descriptions.append("\n\n".join(["## Events", *events.paragraphs]))
        changelog = api.child("Changelog")
        if changelog is not None:
            self.changelog = read_changelog(changelog, version)
            descriptions.append(render_changelog(changelog, self.changelog))
            self.locate(changelog.line, "info", "description")
        if descriptions:
            info["description"] = "\n\n".join(descriptions)
        if "contact" in info_rows:
            info["contact"] = contact(info_rows["contact"])
        if "license" in info_rows:
            license_name = info_rows["license"].text("Value")
            info["license"] = {"name": license_name, "identifier": license_name}
        document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
        servers = api.child("Servers")
        if servers is not None:
            document["servers"] = [
                {"url": require_cell(r, "URL"), "description": r.cells["Description"].source}
                for r in servers.table(("URL", "Description")).rows
            ]
        tags = api.require_child("Tags").table(("Tag", "Description")).rows
        tag_names = {require_cell(r, "Tag") for r in tags}
        document["tags"] = [
            {"name": r.text("Tag"), "description": r.cells["Description"].source} for r in tags
        ]
        security_schemes = self.security_schemes(api.require_child("Security schemes"))
        headers = self.headers(api.child("Headers"))
        schemas = self.schemas(api.require_child("Schemas"))
        paths = self.paths(api.require_child("Operations"), tag_names, set(security_schemes))
        for line, operation_id in self.pending_links:
            if operation_id not in self.operation_ids:
                raise SpecError(line, f"link to unknown operation '{operation_id}'")
        components: dict[str, Any] = {"schemas": schemas}
        if headers:
            components["headers"] = headers
        components["securitySchemes"] = security_schemes
        document["paths"] = paths
        if events is not None:
            document["webhooks"] = read_events(
                events, schemas, tag_names, self.operation_ids, self.locate
            )
        document["components"] = components
        examples = api.child("Examples")
        if examples is not None:
            self.examples = read_examples(examples)
            render_examples(self.examples, document, self.locate)
        return document

    def security_schemes(self, section: Section) -> dict[str, Any]:
        table = section.table(("Name", "Type", "Scheme", "Bearer format", "Description"))
        schemes: dict[str, Any] = {}
        self.locate(section.line, "components", "securitySchemes")
        for row in table.rows:
            scheme: dict[str, Any] = {"type": require_cell(row, "Type")}
            if row.text("Scheme"):
                scheme["scheme"] = row.text("Scheme")
            if row.text("Bearer format"):
                scheme["bearerFormat"] = row.text("Bearer format")
            scheme["description"] = row.cells["Description"].source
            schemes[require_cell(row, "Name")] = scheme
            self.locate(row.line, "components", "securitySchemes", row.text("Name"))
        return schemes

    def headers(self, section: Section | None) -> dict[str, Any]:
        if section is None:
            return {}
        found: dict[str, Any] = {}
        self.locate(section.line, "components", "headers")
        for row in section.table(("Header", "Type", "Description")).rows:
            name = require_cell(row, "Header")
            if name in found:
                raise SpecError(row.line, f"duplicate header '{name}'")
            schema = parse_type(require_cell(row, "Type"), row.line, set()).schema
            found[name] = {"description": row.cells["Description"].source, "schema": schema}
            self.locate(row.line, "components", "headers", name)
            self.header_names.add(name)
        return found

    def schemas(self, section: Section) -> dict[str, Any]:
        self.locate(section.line, "components", "schemas")
        for child in section.children:
            if child.title in self.schema_names:
                raise SpecError(child.line, f"duplicate schema '{child.title}'")
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", child.title):
                raise SpecError(child.line, f"schema name '{child.title}' must be PascalCase")
            self.schema_names.add(child.title)
            columns = [c.lower() for c in child.tables[0].columns] if child.tables else []
            if columns == [c.lower() for c in ENUM_COLUMNS]:
                rows = child.table(ENUM_COLUMNS).rows
                self.enum_values[child.title] = [r.text("Value") for r in rows]
        built: dict[str, Any] = {}
        for child in section.children:
            self.locate(child.line, "components", "schemas", child.title)
            if child.title in self.enum_values:
                built[child.title] = self.enum_schema(child)
            else:
                built[child.title] = self.object_schema(child)
        return built

    def enum_schema(self, section: Section) -> dict[str, Any]:
        for item in section.items:
            raise SpecError(item.line, "an enum schema takes no '- Key: value' options")
        rows = section.table(ENUM_COLUMNS).rows
        for index, row in enumerate(rows):
            self.locate(row.line, "components", "schemas", section.title, "enum", str(index))
        lines = [f"- `{r.text('Value')}`: {r.cells['Description'].source}" for r in rows]
        description = "\n\n".join([*section.paragraphs, "\n".join(lines)])
        return {
            "type": "string",
            "enum": [require_cell(r, "Value") for r in rows],
            "description": description,
        }

    def object_schema(self, section: Section) -> dict[str, Any]:
        options = section.options()
        unknown = set(options) - {"media type", "additional properties", "min properties"}
        for key in sorted(unknown):
            raise SpecError(options[key].line, f"unknown schema option '{key}'")
        schema: dict[str, Any] = {"type": "object"}
        if section.paragraphs:
            schema["description"] = "\n\n".join(section.paragraphs)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for row in section.table(FIELD_COLUMNS).rows:
            name = require_cell(row, "Field")
            if name in properties:
                raise SpecError(row.line, f"duplicate field '{name}'")
            type_expression = parse_type(require_cell(row, "Type"), row.line, self.schema_names)
            prop = apply_constraints(
                row.cells["Constraints"], type_expression, row.line, self.enum_values
            )
            if row.cells["Description"].source:
                prop["description"] = row.cells["Description"].source
            properties[name] = prop
            self.locate(row.line, "components", "schemas", section.title, "properties", name)
            if yes_no(row, "Required"):
                required.append(name)
        schema["properties"] = properties
        if required:
            schema["required"] = required
        if "min properties" in options:
            item = options["min properties"]
            if not item.text.isdigit():
                raise SpecError(item.line, f"min properties needs a number, got '{item.text}'")
            schema["minProperties"] = int(item.text)
            self.locate(item.line, "components", "schemas", section.title, "minProperties")
        additional = options.get("additional properties")
        if additional is not None and additional.text not in ("allowed", "forbidden"):
            raise SpecError(additional.line, "additional properties is 'allowed' or 'forbidden'")
        schema["additionalProperties"] = additional is not None and additional.text == "allowed"
        if additional is not None:
            self.locate(
                additional.line, "components", "schemas", section.title, "additionalProperties"
            )
        if "media type" in options:
            self.media_types[section.title] = options["media type"].text
        return schema

    def paths(self, section: Section, tags: set[str], schemes: set[str]) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for child in section.children:
            method, _, path = child.title.partition(" ")
            method = method.lower()
            if method not in HTTP_METHODS or not path.startswith("/"):
                raise SpecError(
                    child.line, f"operation heading '{child.title}' is not 'METHOD /path'"
                )
            operations = paths.setdefault(path, {})
            if method in operations:
                raise SpecError(child.line, f"duplicate operation {method.upper()} {path}")
            self.locate(child.line, "paths", path, method)
            operations[method] = self.operation(child, path, tags, schemes, method)
        return {path: {m: ops[m] for m in HTTP_METHODS if m in ops} for path, ops in paths.items()}

    def operation(
        self, section: Section, path: str, tags: set[str], schemes: set[str], method: str
    ) -> dict[str, Any]:
        options = section.options()
        for key in sorted(set(options) - set(OPERATION_ITEMS)):
            raise SpecError(options[key].line, f"unknown operation item '{key}'")
        for child in section.children:
            if child.title.lower() not in OPERATION_SECTIONS:
                raise SpecError(
                    child.line,
                    f"unknown section '{child.title}' in an operation (expected one of "
                    f"{', '.join(title.capitalize() for title in OPERATION_SECTIONS)})",
                )
        for key, label in OPERATION_ITEMS.items():
            if key not in options:
                raise SpecError(
                    section.line, f"operation '{section.title}' needs a '- {label}: ...' item"
                )
        operation_id = options["operation id"].text
        if operation_id in self.operation_ids:
            raise SpecError(
                options["operation id"].line,
                f"duplicate operationId '{operation_id}' (first at line "
                f"{self.operation_ids[operation_id]})",
            )
        self.operation_ids[operation_id] = options["operation id"].line
        operation_tags = [t.strip() for t in options["tags"].text.split(",")]
        for tag in operation_tags:
            if tag not in tags:
                raise SpecError(options["tags"].line, f"unknown tag '{tag}'")
        security = [s.strip() for s in options["security"].text.split(",")]
        for scheme in security:
            if scheme not in schemes:
                raise SpecError(options["security"].line, f"unknown security scheme '{scheme}'")
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": options["summary"].text,
            "tags": operation_tags,
        }
        if section.paragraphs:
            operation["description"] = "\n\n".join(section.paragraphs)
        for key, item in options.items():
            self.locate(item.line, "paths", path, method, OPERATION_KEYS[key])
        parameters = section.child("Parameters")
        operation["parameters"] = self.parameters(parameters, path, section)
        for index, row_line in enumerate(self.parameter_lines):
            self.locate(row_line, "paths", path, method, "parameters", str(index))
        body = section.child("Request body")
        if body is not None:
            operation["requestBody"] = self.request_body(body)
            self.locate(body.line, "paths", path, method, "requestBody")
            for media_type, row_line in self.body_lines.items():
                self.locate(row_line, "paths", path, method, "requestBody", "content", media_type)
        responses = self.responses(section.require_child("Responses"))
        for status, row_line in self.response_lines.items():
            self.locate(row_line, "paths", path, method, "responses", status)
        links = section.child("Links")
        if links is not None:
            self.links(links, responses)
        operation["responses"] = responses
        operation["security"] = [{scheme: []} for scheme in security]
        return operation

    def parameters(
        self, section: Section | None, path: str, operation: Section
    ) -> list[dict[str, Any]]:
        in_path = re.findall(r"\{([^}]+)\}", path)
        rows = section.table(PARAMETER_COLUMNS).rows if section is not None else []
        declared: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        self.parameter_lines = [row.line for row in rows]
        for row in rows:
            name, location = require_cell(row, "Name"), require_cell(row, "In")
            if location not in PARAMETER_LOCATIONS:
                raise SpecError(
                    row.line,
                    f"parameter location '{location}' is not one of "
                    f"{', '.join(PARAMETER_LOCATIONS)}",
                )
            if (name, location) in seen:
                raise SpecError(row.line, f"duplicate parameter '{name}' in {location}")
            seen.add((name, location))
            required = yes_no(row, "Required")
            if location == "path":
                if name not in in_path:
                    raise SpecError(
                        row.line,
                        f"path parameter '{name}' is declared but absent from the path {path}",
                    )
                if not required:
                    raise SpecError(row.line, f"path parameter '{name}' must be required")
            type_expression = parse_type(require_cell(row, "Type"), row.line, self.schema_names)
            schema = apply_constraints(
                row.cells["Constraints"], type_expression, row.line, self.enum_values
            )
            parameter: dict[str, Any] = {"name": name, "in": location}
            if row.cells["Description"].source:
                parameter["description"] = row.cells["Description"].source
            parameter["required"] = required
            parameter["schema"] = schema
            declared.append(parameter)
        for name in in_path:
            if (name, "path") not in seen:
                line = section.line if section is not None else operation.line
                raise SpecError(
                    line,
                    f"path parameter '{{{name}}}' of {path} is not declared "
                    f"in the Parameters table",
                )
        return declared

    def request_body(self, section: Section) -> dict[str, Any]:
        rows = section.table(BODY_COLUMNS).rows
        content: dict[str, Any] = {}
        required = False
        description = ""
        self.body_lines = {row.text("Media type"): row.line for row in rows}
        for row in rows:
            type_expression = parse_type(require_cell(row, "Schema"), row.line, self.schema_names)
            if "$ref" not in type_expression.schema:
                raise SpecError(row.line, "a request body must be a named schema")
            content[require_cell(row, "Media type")] = {"schema": type_expression.schema}
            required = required or yes_no(row, "Required")
            description = description or row.cells["Description"].source
        body: dict[str, Any] = {"required": required, "content": content}
        if description:
            body["description"] = description
        return body

    def responses(self, section: Section) -> dict[str, Any]:
        responses: dict[str, Any] = {}
        rows = section.table(RESPONSE_COLUMNS).rows
        self.response_lines = {row.text("Status"): row.line for row in rows}
        for row in rows:
            status = require_cell(row, "Status")
            if not status.isdigit() or int(status) not in KNOWN_STATUS_CODES:
                raise SpecError(row.line, f"unknown status code '{status}'")
            if status in responses:
                raise SpecError(row.line, f"duplicate response for status {status}")
            response: dict[str, Any] = {"description": require_cell(row, "Description")}
            headers = row.cells["Headers"].split(",")
            if headers:
                response["headers"] = {}
                for header in headers:
                    if header not in self.header_names:
                        raise SpecError(
                            row.line, f"unknown header '{header}' (declare it under '## Headers')"
                        )
                    response["headers"][header] = {"$ref": f"#/components/headers/{header}"}
            schema_text = row.text("Schema")
            if schema_text:
                type_expression = parse_type(schema_text, row.line, self.schema_names)
                schema = type_expression.schema
                if "$ref" not in schema and "$ref" not in schema.get("items", {}):
                    raise SpecError(
                        row.line, "a response body must be a named schema or an array of one"
                    )
                name = (schema.get("$ref") or schema["items"]["$ref"]).rpartition("/")[2]
                media_type = self.media_types.get(name, "application/json")
                response["content"] = {media_type: {"schema": schema}}
            responses[status] = response
        if not any(code.startswith("2") for code in responses):
            raise SpecError(section.line, "the Responses table needs a success (2xx) status")
        return responses

    def links(self, section: Section, responses: dict[str, Any]) -> None:
        for row in section.table(LINK_COLUMNS).rows:
            status = require_cell(row, "Status")
            if status not in responses:
                raise SpecError(
                    row.line, f"link on status {status}, which the operation does not answer"
                )
            operation_id = require_cell(row, "Operation")
            self.pending_links.append((row.line, operation_id))
            parameters: dict[str, str] = {}
            for pair in row.cells["Parameters"].split(";"):
                name, colon, expression = (p.strip() for p in pair.partition(":"))
                if not colon or not expression.startswith("$"):
                    raise SpecError(
                        row.line, f"link parameter '{pair}' is not 'name: $runtime.expression'"
                    )
                parameters[name] = expression
            link: dict[str, Any] = {"operationId": operation_id, "parameters": parameters}
            if row.cells["Description"].source:
                link["description"] = row.cells["Description"].source
            links = responses[status].setdefault("links", {})
            name = require_cell(row, "Name")
            if name in links:
                raise SpecError(row.line, f"duplicate link '{name}' on status {status}")
            links[name] = link


def build_contract(text: str) -> Contract:
    """The contract a spec's text describes, with the spec line of each part (raises SpecError)."""
    builder = Builder(read_sections(text))
    document = builder.build()
    validate_openapi(document)
    return Contract(document, builder.locations, builder.changelog, builder.examples)


def build_openapi(text: str) -> dict[str, Any]:
    """The OpenAPI document for a spec's text (raises SpecError)."""
    return build_contract(text).document


def validate_openapi(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as error:
        # The validator's message spans lines (schema path, instance dump); keep the first
        # line and say where, so the report stays one `FILE:LINE: message` line.
        summary = error.message.split("\n", 1)[0]
        where = "/".join(str(part) for part in error.path) or "(document)"
        raise SpecError(
            1, f"the derived OpenAPI document is invalid at {where}: {summary}"
        ) from None
