"""`kyodo-desk line richmenu` against the mock LINE API: created once, drawn with Japanese text."""
import io
import os
import subprocess
import sys

from PIL import Image

from bot.fonts import missing_glyphs
from handlers.line_richmenu import CELL_HEIGHT, CELL_WIDTH, NAME_PREFIX, cell_box, draw_image, menu_definition

LIST, CREATE = "/v2/bot/richmenu/list", "/v2/bot/richmenu"


def run(line_api) -> subprocess.CompletedProcess:
    env = dict(os.environ, LINE_CHANNEL_ACCESS_TOKEN="t", LINE_CHANNEL_SECRET="s", LINE_API_BASE_URL=line_api.url)
    return subprocess.run([sys.executable, "-m", "app", "line", "richmenu"], env=env, capture_output=True, text=True, timeout=60)


def test_richmenu_is_created_with_image_then_reused(line_api):
    line_api.answer(LIST, {"richmenus": [{"richMenuId": "old-1", "name": NAME_PREFIX + "outdated", "size": {"width": 2500, "height": 843},
                                          "selected": True, "chatBarText": "x", "areas": []}]})
    line_api.answer(CREATE, {"richMenuId": "rm-new"})
    first = run(line_api)
    assert first.returncode == 0, first.stderr
    [create] = line_api.calls(CREATE)
    labels = [a["action"]["label"] for a in create.body["areas"]]
    assert labels == ["質問する", "相談する", "提案する", "仲間をさがす", "団体を登録", "状況確認"]
    assert all(len(a["action"]["data"]) <= 300 for a in create.body["areas"])
    [upload] = line_api.calls("/v2/bot/richmenu/rm-new/content")
    assert upload.headers["Content-Type"] == "image/png"
    assert line_api.calls("/v2/bot/user/all/richmenu/rm-new")
    assert line_api.calls("/v2/bot/richmenu/old-1")  # the outdated menu is deleted

    line_api.answer(LIST, {"richmenus": [{"richMenuId": "rm-new", "name": menu_definition()["name"],
                                          "size": {"width": 2500, "height": 843}, "selected": True,
                                          "chatBarText": "メニュー", "areas": []}]})
    second = run(line_api)
    assert second.returncode == 0 and "rm-new" in second.stdout
    assert len(line_api.calls(CREATE)) == 1  # nothing created the second time


def test_menu_image_has_drawn_japanese_glyphs_not_empty_boxes():
    assert missing_glyphs("質問する相談する提案する仲間をさがす団体を登録状況確認") == set()
    assert missing_glyphs("\U0001fae8") == {"\U0001fae8"}  # the check does see a missing glyph
    image = Image.open(io.BytesIO(draw_image())).convert("L")
    assert image.size == (2500, 1686)
    # Each cell's label is drawn in white on colour: plenty of white pixels inside every cell,
    # and the six labels differ (tofu boxes would look alike).
    corners = [cell_box(i) for i in range(6)]
    cells = [image.crop((x + 40, y + 200, x + CELL_WIDTH - 40, y + CELL_HEIGHT - 200)) for x, y in corners]
    white = [sum(cell.histogram()[241:]) for cell in cells]
    assert all(w > 5000 for w in white)
    assert len({cell.tobytes() for cell in cells}) == 6
