"""`kyodo-desk line richmenu`: the default rich menu (質問する / 相談する / 提案する / 仲間をさがす /
団体を登録 / 状況確認, two rows of three), drawn here with the bundled Japanese font, created once and set as default (idempotent)."""
from __future__ import annotations

import hashlib
import io
import json
from urllib.parse import urlparse

from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob, RichMenuRequest
from PIL import Image, ImageDraw, ImageFont

from bot.fonts import JAPANESE_FONT
from bot.postbacks import Action, Tap
from handlers.config import LineConfig

WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 3, 2
BUTTONS = (
    ("質問する", Action.ASK_PROMPT, "#0b6bcb"),
    ("相談する", Action.CONSULT, "#1f8a4c"),
    ("提案する", Action.PROPOSE, "#b35c00"),
    ("仲間をさがす", Action.FIND_GROUPS, "#0f7c86"),
    ("団体を登録", Action.REGISTER, "#8a5a1f"),
    ("状況確認", Action.STATUS, "#5b4bb7"),
)
CELL_WIDTH, CELL_HEIGHT = WIDTH // COLUMNS, HEIGHT // ROWS


def cell_box(i: int) -> tuple[int, int]:
    """The top-left corner of the i-th button (left to right, then the next row)."""
    return (i % COLUMNS) * CELL_WIDTH, (i // COLUMNS) * CELL_HEIGHT
NAME_PREFIX = "kyodo-desk menu "


def draw_image() -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(JAPANESE_FONT), 118)
    for i, (label, _action, colour) in enumerate(BUTTONS):
        left, top = cell_box(i)
        draw.rectangle([left + 12, top + 12, left + CELL_WIDTH - 12, top + CELL_HEIGHT - 12], fill=colour)
        box = draw.textbbox((0, 0), label, font=font)
        draw.text((left + (CELL_WIDTH - (box[2] - box[0])) / 2 - box[0],
                   top + (CELL_HEIGHT - (box[3] - box[1])) / 2 - box[1]), label, font=font, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def menu_definition() -> dict:
    areas = [{"bounds": {"x": cell_box(i)[0], "y": cell_box(i)[1], "width": CELL_WIDTH, "height": CELL_HEIGHT},
              "action": {"type": "postback", "label": label, "data": Tap(action).encode(), "displayText": label}}
             for i, (label, action, _colour) in enumerate(BUTTONS)]
    body = {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True, "chatBarText": "メニュー", "areas": areas}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode() + draw_image()).hexdigest()[:12]
    return {**body, "name": NAME_PREFIX + digest}


def data_host(api_base: str) -> str:
    """Images go to api-data.line.me in production; a test server serves both."""
    parsed = urlparse(api_base)
    if parsed.hostname == "api.line.me":
        return api_base.replace("api.line.me", "api-data.line.me")
    return api_base


def install(config: LineConfig) -> tuple[str, bool]:
    """Create (if needed) and set the default rich menu; returns (rich menu id, created?)."""
    definition = menu_definition()
    base = config.api_base_url.rstrip("/")
    token = config.access_token
    api = MessagingApi(ApiClient(Configuration(host=base, access_token=token)))
    blob = MessagingApiBlob(ApiClient(Configuration(host=data_host(base), access_token=token)))
    existing = api.get_rich_menu_list().richmenus or []
    ours = [m for m in existing if (m.name or "").startswith(NAME_PREFIX)]
    current = next((m for m in ours if m.name == definition["name"]), None)
    created = current is None
    if created:
        menu_id = api.create_rich_menu(RichMenuRequest.from_dict(definition)).rich_menu_id
        blob.set_rich_menu_image(menu_id, body=draw_image(), _headers={"Content-Type": "image/png"})
    else:
        menu_id = current.rich_menu_id
    api.set_default_rich_menu(menu_id)
    for old in ours:
        if old.rich_menu_id != menu_id:
            api.delete_rich_menu(old.rich_menu_id)
    return menu_id, created
