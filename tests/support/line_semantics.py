"""The parts of LINE's behaviour that decide whether a message can arrive twice: a reply token
works once; a push with a retry key already accepted is answered 409."""
from __future__ import annotations

import threading


def emulate_line(mock) -> dict:
    state = {"tokens": set(), "keys": set(), "delivered": []}
    lock = threading.Lock()

    def reply(request):
        token = request.body.get("replyToken")
        with lock:
            if token in state["tokens"]:
                return 400, {"message": "Invalid reply token"}
            state["tokens"].add(token)
            state["delivered"].append(("reply", token, str(request.body.get("messages"))))
        return None

    def push(request):
        key = request.headers.get("X-Line-Retry-Key")
        with lock:
            if key and key in state["keys"]:
                return 409, {"message": "The retry key is already accepted"}
            if key:
                state["keys"].add(key)
            state["delivered"].append(("push", request.body.get("to"), str(request.body.get("messages"))))
        return None

    mock.responders["/v2/bot/message/reply"] = reply
    mock.responders["/v2/bot/message/push"] = push
    return state
