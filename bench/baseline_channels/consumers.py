"""The tutorial's consumer: every socket in a group, every message through the layer."""

import itertools

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

# Per process, like any id that is not from a database.
_message_ids = itertools.count(1)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.group = f"chat_{self.slug}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or content.get("type") != "message.send":
            return
        body = content.get("body")
        client_id = content.get("client_id")
        if not isinstance(body, str):
            return
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "chat.message",
                "message": {
                    "type": "message.new",
                    "id": next(_message_ids),
                    "room": self.slug,
                    "author": "anonymous",
                    "body": body,
                    "created": timezone.now().isoformat(),
                    "client_id": client_id if isinstance(client_id, str) else None,
                },
            },
        )

    async def chat_message(self, event: dict) -> None:
        # One json.dumps per receiving socket: the tutorial's cost model.
        await self.send_json(event["message"])
