"""The Temporal UI, in Chromium, shows an order's payloads decoded (through the API's codec
endpoint) to an agent logged into the console, and to nobody else: logged out, the same page
shows ciphertext.

The dev server's UI runs as `make run` starts it, `--ui-codec-endpoint` at the API's /codec. That
UI calls the codec without cookies unless its codec setting "Include cross-origin credentials" is
on (the dev server has no flag for it), so the agent turns it on once, in the UI's own dialog.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from temporalio.testing import WorkflowEnvironment

from db.session import SessionFactory
from devstack.network import LOOPBACK, free_port
from security.roles import Role
from settings import Settings
from tests.harness.binaries import TEMPORAL_CLI
from tests.harness.console import ACTION, log_in, make_user
from tests.harness.keys import bearer, issue_key, payload_converter
from tests.harness.orders import MakeOrderBody, wait_for_status
from tests.harness.servers import serve_http
from tests.harness.storefront import place, stock
from worker import build_worker
from workflows.contracts import SEARCH_ATTRIBUTES, order_workflow_id


@dataclass(frozen=True, kw_only=True)
class Stack:
    """The API (console and codec), a Temporal dev server whose UI decodes through it, a worker."""

    api_url: str
    ui_url: str
    codec_url: str
    settings: Settings


@pytest.fixture
async def stack(settings: Settings, sessions: SessionFactory) -> AsyncIterator[Stack]:
    """A dev server of its own, with its UI: the UI must know the API's port before it starts."""
    api_port, ui_port = free_port(), free_port()
    codec_url = f"http://{LOOPBACK}:{api_port}/codec"
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=payload_converter(),
        ui=True,
        ui_port=ui_port,
        dev_server_extra_args=["--ui-codec-endpoint", codec_url],
    ) as env:
        ui_url = f"http://{LOOPBACK}:{ui_port}"
        target = env.client.service_client.config.target_host
        ours = settings.model_copy(update={"temporal_address": target, "temporal_ui_url": ui_url})
        async with (
            serve_http(ours, port=api_port) as api_url,
            build_worker(env.client, sessions, ours),
        ):
            yield Stack(api_url=api_url, ui_url=ui_url, codec_url=codec_url, settings=ours)


async def completed_order(
    stack: Stack, sessions: SessionFactory, order_body: MakeOrderBody
) -> tuple[str, str]:
    """An order shipped to an address line of its own; its id and that line."""
    key = await issue_key(sessions, stack.settings, Role.STOREFRONT)
    admin = await issue_key(sessions, stack.settings, Role.ADMIN)
    line1 = f"{uuid4().hex[:8]} Baker Street"
    address = {
        "name": "Ada",
        "line1": line1,
        "city": "London",
        "postal_code": "NW1",
        "country": "GB",
    }
    async with httpx.AsyncClient(base_url=stack.api_url, headers=bearer(admin)) as api:
        sku = await stock(api, 5)
        async with httpx.AsyncClient(base_url=stack.api_url, headers=bearer(key)) as shop:
            order_id = await place(shop, order_body(sku, shipping_address=address))
        await wait_for_status(api, order_id, "completed")
    return order_id, line1


async def include_credentials(page: Page, codec_url: str) -> None:
    """What an agent does once per browser: the UI's Codec Server dialog, its browser endpoint
    with "Include cross-origin credentials"."""
    await page.locator('[data-testid^="data-encoder-status"]').click()
    dialog = page.locator("#data-encoder-settings")
    await dialog.get_by_text("Use my browser setting and ignore").click()
    await dialog.get_by_placeholder("Paste your endpoint here").fill(codec_url)
    await dialog.get_by_text("Include cross-origin credentials").click()
    await dialog.get_by_role("button", name="Apply").click()


async def test_a_logged_in_agent_sees_the_decoded_address_and_once_logged_out_no_longer(
    stack: Stack, browser: Browser, sessions: SessionFactory, order_body: MakeOrderBody
) -> None:
    order_id, line1 = await completed_order(stack, sessions, order_body)
    agent = await make_user(sessions, Role.SUPPORT)
    context = await browser.new_context()
    context.set_default_timeout(ACTION)
    page = await context.new_page()
    order_page = f"{stack.ui_url}/namespaces/default/workflows/{order_workflow_id(order_id)}"
    await log_in(page, stack.api_url, agent.username, agent.password)
    await page.goto(order_page)
    await include_credentials(page, stack.codec_url)

    await page.reload()

    await expect(page.get_by_text(line1)).to_be_visible(timeout=ACTION)
    await expect(page.get_by_test_id("data-encoder-status-success")).to_be_visible()

    await page.goto(f"{stack.api_url}/console")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/console/login**")
    await page.goto(order_page)

    await expect(page.get_by_test_id("data-encoder-status-error")).to_be_visible(timeout=ACTION)
    await expect(page.get_by_role("heading", name="Input")).to_be_visible()
    assert line1 not in await page.inner_text("body")
    await context.close()
