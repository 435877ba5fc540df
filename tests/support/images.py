"""Image bytes for upload tests, drawn with Pillow (plain functions, no fixtures)."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image, ImageCms, ImageDraw

CAMERA_MAKE = "SpyCam"  # written into EXIF by make_*(exif=True); tests assert it never survives an upload


def _draw(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """An image with a dark diagonal and a bright top-left corner, so orientation and scaling are visible."""
    image = Image.new(mode, (width, height), (200, 80, 90) if mode == "RGB" else (200, 80, 90, 255))
    draw = ImageDraw.Draw(image)
    draw.line((0, 0, width, height), fill=(20, 20, 20), width=max(1, width // 32))
    draw.rectangle((0, 0, max(1, width // 8), max(1, height // 8)), fill=(250, 250, 250))
    return image


def make_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF with a camera make/model and a GPS position (and an orientation tag when given)."""
    tags = Image.Exif()
    tags[0x010F] = CAMERA_MAKE  # Make
    tags[0x0110] = "Model X"  # Model
    tags[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS: where the photo was taken
    if orientation is not None:
        tags[0x0112] = orientation
    return tags


def _encode(image: Image.Image, fmt: str, exif: bool, **options) -> bytes:
    out = io.BytesIO()
    if exif:
        options["exif"] = make_exif()
    image.save(out, fmt, **options)
    return out.getvalue()


def make_jpeg(width: int = 64, height: int = 48, exif: bool = False, **options) -> bytes:
    """A JPEG; with exif=True it carries a camera make/model and a GPS block. `options` go to Image.save."""
    return _encode(_draw(width, height), "JPEG", exif, **options)


def make_png(width: int = 64, height: int = 48, exif: bool = False, **options) -> bytes:
    """A PNG (RGB); with exif=True it carries an eXIf chunk with camera make/model and GPS."""
    return _encode(_draw(width, height), "PNG", exif, **options)


def make_webp(width: int = 64, height: int = 48, exif: bool = False, **options) -> bytes:
    """A WebP; with exif=True it carries an EXIF chunk with camera make/model and GPS."""
    return _encode(_draw(width, height), "WEBP", exif, **options)


def make_gif() -> bytes:
    """A real GIF (a format uploads refuse)."""
    return _encode(_draw(16, 16), "GIF", False)


def make_rotated_jpeg(width: int = 60, height: int = 40, orientation: int = 6) -> bytes:
    """A JPEG stored `width` x `height` whose EXIF orientation says to show it rotated (6: 90° clockwise)."""
    out = io.BytesIO()
    _draw(width, height).save(out, "JPEG", exif=make_exif(orientation))
    return out.getvalue()


def make_cmyk_jpeg(width: int = 40, height: int = 30) -> bytes:
    """A CMYK JPEG (print workflows make these)."""
    out = io.BytesIO()
    _draw(width, height).convert("CMYK").save(out, "JPEG")
    return out.getvalue()


def make_mpo(width: int = 40, height: int = 30) -> bytes:
    """A multi-picture JPEG (MPO), as many phone cameras write."""
    out = io.BytesIO()
    second = Image.new("RGB", (width, height), "blue")
    _draw(width, height).save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def make_transparent_png(width: int = 40, height: int = 30) -> bytes:
    """A palette PNG whose colour 0 is transparent (a tRNS chunk, not an alpha channel)."""
    image = Image.new("P", (width, height), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    ImageDraw.Draw(image).rectangle((5, 5, width - 5, height - 5), fill=1)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    return out.getvalue()


def make_png_with_metadata(width: int = 40, height: int = 30) -> bytes:
    """A PNG with an ICC profile and a text chunk naming its author (both must be dropped)."""
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Author", "Alice Example")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return _encode(_draw(width, height), "PNG", True, pnginfo=text, icc_profile=icc)


def make_bomb(side: int = 20_000) -> bytes:
    """A tiny, valid PNG that decodes to side x side pixels (400 megapixels by default).

    Written chunk by chunk (1-bit greyscale rows of zeros through zlib) so that making it takes neither the
    memory nor the time that drawing it with Pillow would.
    """
    row = b"\x00" + bytes((side + 7) // 8)  # filter byte + one bit per pixel
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def noise_jpeg(side: int) -> bytes:
    """A side x side JPEG of random noise (it does not compress, so it is big)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "JPEG", quality=95)
    return out.getvalue()


def oversized_jpeg(nbytes: int) -> bytes:
    """A valid JPEG of more than `nbytes` bytes (random noise does not compress)."""
    side = 128
    while len(data := noise_jpeg(side)) <= nbytes:
        side *= 2
    return data


def truncated_jpeg() -> bytes:
    """A JPEG cut off in the middle of its image data (the header still parses)."""
    data = noise_jpeg(96)
    return data[: len(data) * 2 // 3]


def corrupted_png() -> bytes:
    """A PNG with one byte of its image data flipped, so the chunk checksum no longer matches."""
    data = bytearray(make_png(32, 32))
    at = data.index(b"IDAT") + 10
    data[at] ^= 0xFF
    return bytes(data)
