"""The bundled Japanese font (IPAexGothic, IPA Font License v1.0: see the licence file here)."""
from pathlib import Path

JAPANESE_FONT = Path(__file__).parent / "ipaexg.ttf"


def missing_glyphs(text: str, font_path: Path = JAPANESE_FONT) -> set[str]:
    """Characters the font would draw as an empty box (tofu)."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_path), 48)
    tofu = bytes(font.getmask("\U0010fffd"))
    return {ch for ch in set(text) if not ch.isspace() and bytes(font.getmask(ch)) == tofu}
