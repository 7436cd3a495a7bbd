"""Make the PDF font: Noto Sans SC Regular cut down to GB2312, ASCII and the punctuation documents use.

    npm pack @expo-google-fonts/noto-sans-sc@0.4.3 && tar xzf expo-google-fonts-noto-sans-sc-0.4.3.tgz
    pip install fonttools && python scripts/subset-font.py package/400Regular/NotoSansSC_400Regular.ttf

Writes webapp/documents/fonts/NotoSansSC-Regular-GB2312.ttf (SIL Open Font License 1.1, see OFL.txt
beside it). Not run by the app or the tests: the result is committed so that PDFs render Chinese on a
machine with no Chinese fonts of its own.
"""
import sys
from pathlib import Path

from fontTools import subset


def gb2312() -> set[int]:
    chars = set(range(0x20, 0x7F))
    for code in range(0xA1A1, 0xF7FF):
        try:
            chars.add(ord(bytes([code >> 8, code & 0xFF]).decode("gb2312")))
        except UnicodeDecodeError:
            pass
    chars |= set(range(0x3000, 0x3040)) | set(range(0xFF01, 0xFF5F)) | set(range(0x2010, 0x2070))
    chars |= set(range(0x2460, 0x24A0)) | {0x00B7, 0x00D7, 0x00F7, 0x2103, 0x2116, 0x3007}
    return chars


def main() -> None:
    source = sys.argv[1]
    target = Path(__file__).resolve().parent.parent / "webapp" / "documents" / "fonts" / "NotoSansSC-Regular-GB2312.ttf"
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=gb2312())
    subsetter.subset(font)
    font.save(str(target))
    print(target, target.stat().st_size)


if __name__ == "__main__":
    main()
