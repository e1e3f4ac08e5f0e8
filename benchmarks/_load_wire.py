"""The server's part of a page time, read from the browser's websocket frames (the load benchmark)."""

from __future__ import annotations

import base64

__all__ = ["Wire"]


class Wire:
    """The app's websocket messages of one page as the browser's network layer saw them (DevTools
    protocol timestamps, taken when a frame is sent or arrives, before any rendering).

    The server's time for a page is from the browser's first "run the script" message after the
    click to the last message from the server that arrived before the page was ready (the page's
    content streams in while the script runs, so that is often before "script finished"): the
    server's queueing, script run and sending, plus loopback, without the browser's rendering.
    """

    def __init__(self) -> None:
        self.frames: list[tuple[float, str]] = []  # (network timestamp s, "sent:<type>" / "got:<type>")

    async def attach(self, context, page) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        def kind(message, data: str) -> str | None:
            try:
                message.ParseFromString(base64.b64decode(data))
                return message.WhichOneof("type")
            except Exception:  # a text frame or something else than the app's protocol
                return None

        cdp = await context.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", lambda e: self.frames.append(
            (e["timestamp"], f"sent:{kind(BackMsg(), e['response']['payloadData'])}")))
        cdp.on("Network.webSocketFrameReceived", lambda e: self.frames.append(
            (e["timestamp"], f"got:{kind(ForwardMsg(), e['response']['payloadData'])}")))
        await cdp.send("Network.enable")

    def server_time(self, first: int) -> float | None:
        """Seconds from the first rerun request among ``frames[first:]`` to the last app message."""
        window = self.frames[first:]
        asked = next((ts for ts, what in window if what == "sent:rerun_script"), None)
        got = [ts for ts, what in window if what.startswith("got:") and what not in ("got:None", "got:heartbeat_ack")]
        if asked is None or not got or got[-1] < asked:
            return None
        return got[-1] - asked
