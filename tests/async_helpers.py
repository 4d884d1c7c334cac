"""asyncio from synchronous tests that share one pytest process with the browser tests."""
import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_async(awaitable_factory, timeout: float | None = None):
    """asyncio.run(awaitable_factory()) in a thread of its own: Playwright's sync API keeps an event loop running in
    the main thread once a browser test ran, and asyncio.run refuses to start inside a running loop."""
    async def main():
        return await asyncio.wait_for(awaitable_factory(), timeout) if timeout else await awaitable_factory()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()
