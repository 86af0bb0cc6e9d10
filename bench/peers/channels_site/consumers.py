"""The Channels peer's consumer: the tutorial's ChatConsumer, with topics for rooms.

A socket joins one group per topic it asks for (its table and the venue, or a POS's
twenty tables), acknowledges with {"type":"subscribed"}, and forwards what the group
receives. Group names cannot hold ':', so `table:12` is the group `table.12`.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer


class TopicsConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.groups_joined = []
        await self.accept()

    async def disconnect(self, close_code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        message = json.loads(text_data)
        if message.get("type") == "subscribe":
            for topic in message["topics"]:
                group = topic.replace(":", ".")
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
            await self.send(text_data='{"type":"subscribed"}')

    async def bench_message(self, event):
        await self.send(text_data=event["text"])
