"""Rebuild the vendored letter fonts from Noto Sans/Serif CJK SC (OFL-1.1); a developer tool, not run by the app.

    python negotiation/fonts/build_subset.py /usr/share/fonts/opentype/noto   # Debian's fonts-noto-cjk

Keeps ASCII, Latin-1, general and CJK punctuation, full-width forms and every character of GB2312
(6,763 hanzi plus its symbols), converts the CFF outlines to TrueType (glyf) so any PDF library
can embed them as CIDFontType2, and renames the family so the subset is not mistaken for the full font.
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

HERE = Path(__file__).resolve().parent
# (source collection, face in it, output file, family name): face 2 of each Noto CJK .ttc is SC.
FACES = [
    ("NotoSansCJK-Regular.ttc", "AccordSansSC-Regular.ttf", "Accord Sans SC", "Regular"),
    ("NotoSansCJK-Bold.ttc", "AccordSansSC-Bold.ttf", "Accord Sans SC", "Bold"),
]
MAX_ERR = 1.0  # font units (of 1000): invisible at any printed size


def characters() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    ranges = [(0x2000, 0x206F), (0x2100, 0x215F), (0x2190, 0x21FF), (0x2460, 0x24FF), (0x25A0, 0x25FF),
              (0x3000, 0x303F), (0xFF00, 0xFFEF)]
    for low, high in ranges:
        chars |= {chr(c) for c in range(low, high + 1)}
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(sorted(chars))


def face_index(path: Path, marker: str = "SC") -> int:
    for index in range(8):
        name = TTFont(path, fontNumber=index, lazy=True)["name"].getDebugName(1) or ""
        if name.endswith(marker):
            return index
    raise LookupError(f"no {marker} face in {path}")


def to_truetype(font: TTFont) -> None:
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in font.getGlyphOrder():
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = glyphs
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 3.0  # no glyph names: smaller, and CID fonts need none
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    font.recalcBBoxes = True


def rename(font: TTFont, family: str, style: str) -> None:
    name = font["name"]
    full, postscript = f"{family} {style}", f"{family.replace(' ', '')}-{style}"
    for record in list(name.names):
        if record.nameID in (16, 17, 21, 22):
            name.removeNames(nameID=record.nameID)
    for name_id, value in ((1, family), (2, style), (3, f"Accord subset;{postscript}"), (4, full), (6, postscript)):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)


def build(source_dir: Path) -> None:
    text = characters()
    for source, output, family, style in FACES:
        path = source_dir / source
        font = TTFont(path, fontNumber=face_index(path))
        options = subset.Options()
        options.layout_features = []  # horizontal text set glyph by glyph; no shaping needed
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.hinting = False
        options.desubroutinize = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        to_truetype(font)
        rename(font, family, style)
        font.save(HERE / output)
        print(output, (HERE / output).stat().st_size, "bytes", len(font.getGlyphOrder()), "glyphs")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto"))
