"""Image bytes for upload tests, drawn with Pillow."""

from __future__ import annotations

import io
import os

from PIL import Image


def _draw(width: int, height: int, mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, (width, height), (200, 80, 90) if mode == "RGB" else 128)
    for x in range(0, width, 8):
        image.putpixel((x, x * height // max(width, 1) % height), (20, 20, 20) if mode == "RGB" else 0)
    return image


def make_jpeg(width: int = 64, height: int = 48, exif: bool = False) -> bytes:
    """A JPEG; with exif=True it carries a camera make/model and a GPS block."""
    image, out = _draw(width, height), io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam"  # Make
        tags[0x0110] = "Model X"  # Model
        tags[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS: where the photo was taken
        image.save(out, "JPEG", exif=tags)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def make_png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    _draw(width, height).save(out, "PNG")
    return out.getvalue()


def make_webp(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    _draw(width, height).save(out, "WEBP")
    return out.getvalue()


def make_gif() -> bytes:
    out = io.BytesIO()
    _draw(16, 16).save(out, "GIF")
    return out.getvalue()


def make_bomb(side: int = 20_000) -> bytes:
    """A tiny PNG that decodes to side x side pixels (400 megapixels by default)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()


def oversized_jpeg(nbytes: int) -> bytes:
    """A valid JPEG of more than `nbytes` bytes (random noise does not compress)."""
    side = 256
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=100)
        if out.tell() > nbytes:
            return out.getvalue()
        side *= 2
