"""A real WebSocket client of the agents' inbox (the `websockets` package): requests with ids,
events collected as they come."""

import asyncio
import json
import time

from websockets.exceptions import ConnectionClosed
import websockets


class Agent:
    """One agent's connection: requests with ids, events collected as they come."""

    def __init__(self, hub, token):
        self.hub = hub
        self.token = token
        self.ws = None
        self.events = []
        self.pending = {}
        self.counter = 0
        self.reader = None

    async def connect(self, resume_from=None):
        self.ws = await websockets.connect(f"{self.hub.ws_base}/v1/agent/ws?access_token={self.token}", max_size=None)
        self.reader = asyncio.create_task(self._read())
        hello = {"type": "hello"}
        if resume_from is not None:
            hello["resumeFrom"] = resume_from
        return await self.call(hello)

    async def _read(self):
        try:
            async for text in self.ws:
                frame = json.loads(text)
                if frame.get("id") in self.pending:
                    self.pending.pop(frame["id"]).set_result(frame)
                else:
                    self.events.append(frame)
        except ConnectionClosed:
            pass

    async def call(self, frame, timeout=20):
        self.counter += 1
        frame = dict(frame, id="r%d" % self.counter)
        future = asyncio.get_running_loop().create_future()
        self.pending[frame["id"]] = future
        await self.ws.send(json.dumps(frame))
        return await asyncio.wait_for(future, timeout)

    async def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for frame in self.events:
                if predicate(frame):
                    return frame
            await asyncio.sleep(0.02)
        raise AssertionError("no such frame; got: %s" % [(f.get("type"), f.get("kind")) for f in self.events])

    async def close(self):
        await self.ws.close()
        await self.reader


def kind(name):
    return lambda frame: frame.get("type") == "event" and frame.get("kind") == name


def run(coroutine):
    return asyncio.run(coroutine)
