"""/docs and /redoc in a real browser (headless Chromium), where every host but 127.0.0.1
is unreachable: Swagger UI lists the six operations, Authorize then Try it out on listTasks
gets a 200, and neither page asks anything of another host."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.auth.tokens import mint_token
from backend.contract import load_contract
from tests.conftest import SECRET, new_owner, token_for
from tests.support.app_server import serve_in_thread
from tests.support.browser import Page, new_page, outside_requests
from tests.support.live_server import LiveServer, live_server

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOT = "swagger-ui-try-it-out.png"
# `make docs-screenshot` sets it to docs/ so the screenshot there is the one a test took.
SCREENSHOT_DIR_VARIABLE = "DOCS_SCREENSHOT_DIR"
LIST_TASKS = "#operations-tasks-listTasks"

# React owns the inputs of Swagger UI: a value is set through the native setter, announced
# with an input event as typing would, then the field loses focus, which makes Swagger UI's
# debounced inputs take the value at once.
TYPE_INTO = """
(selector, text) => {
  const input = document.querySelector(selector);
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
  input.focus();
  setter.call(input, text);
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new FocusEvent("focusout", { bubbles: true }));
  input.blur();
  return true;
}
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("docs-api")
    with live_server(f"sqlite:///{folder / 'todo.db'}", SECRET, folder / "server.log") as running:
        yield running


def click(page: Page, selector: str) -> None:
    page.wait_for(f"document.querySelector({selector!r}) !== null")
    page.evaluate(f"document.querySelector({selector!r}).click()")


def type_into(page: Page, selector: str, text: str) -> None:
    page.wait_for(f"document.querySelector({selector!r}) !== null")
    page.evaluate(f"({TYPE_INTO})({selector!r}, {text!r})")


def operation_ids(contract: dict[str, object], part: str = "paths") -> set[str]:
    """The operationIds of the document's `paths`, or of its `webhooks` (the events)."""
    paths = contract[part]
    assert isinstance(paths, dict)
    return {
        operation["operationId"] for methods in paths.values() for operation in methods.values()
    }


def test_swagger_ui_authorize_then_try_it_out_on_list_tasks(
    devtools_port: int, api: LiveServer, tmp_path: Path
) -> None:
    """Try it out fills each parameter with the first of the spec's examples for it: the
    filters of the filtered-list example, which find the task made like the examples' one."""
    owner = new_owner()
    milk = {"title": "Buy milk", "due_date": "2026-12-24", "priority": "high", "tags": ["shop"]}
    for task in (milk, {"title": "Call the plumber"}):
        created = httpx.post(
            f"{api.base_url}/api/{owner}/tasks", json=task, headers=token_for(owner), timeout=10
        )
        assert created.status_code == 201
    with new_page(devtools_port) as page:
        page.open(f"{api.base_url}/docs")
        contract = load_contract()
        operations, events = operation_ids(contract), operation_ids(contract, "webhooks")
        listed = page.wait_for(
            f"document.querySelectorAll('.opblock').length === {len(operations) + len(events)}"
            " && [...document.querySelectorAll('.opblock')].map(e => e.id)"
        )
        shown = {name.removeprefix("operations-tasks-") for name in listed}
        assert {name.removeprefix("operations-webhooks-") for name in shown} == operations | events

        click(page, ".btn.authorize")
        type_into(page, "#auth-bearer-value", mint_token(owner, SECRET.encode()))
        click(page, ".auth-container .btn.modal-btn.authorize")
        click(page, ".auth-container .btn-done")

        click(page, f"{LIST_TASKS} .opblock-summary-control")
        click(page, f"{LIST_TASKS} .try-out__btn")
        type_into(page, f"{LIST_TASKS} tr[data-param-name='user_id'] input", owner)
        click(page, f"{LIST_TASKS} .execute")
        status = page.wait_for(
            f"document.querySelector('{LIST_TASKS} .live-responses-table .response "
            ".response-col_status')?.textContent.trim()"
        )
        assert status == "200", page.console_text()
        body = page.evaluate(
            f"document.querySelector('{LIST_TASKS} .live-responses-table .response "
            ".response-col_description pre').textContent"
        )
        assert "Buy milk" in body
        assert "Call the plumber" not in body  # filtered out by the examples' priority and tag
        requested = page.requests()
        assert any(
            request.url.startswith(f"{api.base_url}/api/{owner}/tasks?")
            and "q=MILK" in request.url
            and "cursor" not in request.url
            for request in requested
        )
        assert outside_requests(requested) == []

        page.evaluate(f"document.querySelector('{LIST_TASKS}').scrollIntoView()")
        page.screenshot(tmp_path / SCREENSHOT)
    assert (tmp_path / SCREENSHOT).read_bytes().startswith(b"\x89PNG")
    target = os.environ.get(SCREENSHOT_DIR_VARIABLE)
    if target:
        shutil.copyfile(tmp_path / SCREENSHOT, ROOT / target / SCREENSHOT)


def summaries(contract: dict[str, Any]) -> list[str]:
    return sorted(
        operation["summary"]
        for methods in contract["paths"].values()
        for operation in methods.values()
    )


def test_redoc_renders_the_operations_offline(devtools_port: int, api: LiveServer) -> None:
    """Each operation of the contract gets its section, headed by its summary."""
    wanted = summaries(load_contract())
    assert len(wanted) == 6
    headings = "[...document.querySelectorAll('h2')].map(heading => heading.textContent.trim())"
    with new_page(devtools_port) as page:
        page.open(f"{api.base_url}/redoc")
        page.wait_for(f"{json.dumps(wanted)}.every(summary => {headings}.includes(summary))")
        shown = page.evaluate(headings)
        assert outside_requests(page.requests()) == []
    assert sorted(heading for heading in shown if heading in wanted) == wanted


def test_the_offline_check_catches_docs_loaded_from_a_cdn(devtools_port: int) -> None:
    # FastAPI's own /docs takes Swagger UI from a CDN: the check above must see it.
    with serve_in_thread(FastAPI()) as base_url, new_page(devtools_port) as page:
        page.open(f"{base_url}/docs")
        outside = outside_requests(page.requests())
    assert any(url.startswith("https://cdn.jsdelivr.net/") for url in outside), outside


def test_the_spec_examples_show_in_swagger_ui_and_redoc(
    devtools_port: int, api: LiveServer
) -> None:
    """The examples of the spec's `## Examples` reach both pages: Swagger UI offers them by
    name on createTask's request body and shows the first one's values (parameters' examples
    fill Try it out, above); ReDoc lists them by their summaries."""
    create = "#operations-tasks-createTask"
    names = f"[...document.querySelectorAll('{create} option')].map(option => option.value)"
    with new_page(devtools_port) as page:
        page.open(f"{api.base_url}/docs")
        click(page, f"{create} .opblock-summary-control")
        offered = page.wait_for(f"{names}.includes('created-with-defaults') && {names}")
        text = page.evaluate(f"document.querySelector('{create}').textContent")
    assert {"created", "created-again", "created-with-defaults"} <= set(offered)
    assert "Buy milk" in text

    summary = "Alice creates a task with a due day, a priority and a tag"
    with new_page(devtools_port) as page:
        page.open(f"{api.base_url}/redoc")
        page.wait_for(f"document.body.textContent.includes({summary!r})")
        assert "Call the plumber" in page.evaluate("document.body.textContent")
        assert outside_requests(page.requests()) == []
