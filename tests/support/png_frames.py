"""Raw rgb24 frames of an 8-bit RGB PNG (the fixture scenes) on stdout, frame i the scene rolled 4i pixels
to the left (wrapping round): a video for the tests of y26's streaming without Pillow or numpy (y26 detect
-i - --raw WxH reads them). The frames keep the scene's size, so the random-weight fixtures, whose class
biases are set on the whole scene, still detect in them.
usage: python3 png_frames.py SCENE.png FRAMES"""
import struct
import sys
import zlib


def decode_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color == 2 and interlace == 0, "only 8-bit RGB, not interlaced"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * 3, [], bytearray(w * 3)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - 3] if x >= 3 else 0
            b, c = prev[x], prev[x - 3] if x >= 3 else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    w, h, rows = decode_png(path)
    out = sys.stdout.buffer
    for i in range(n):
        shift = (4 * i) % w * 3
        for row in rows:
            out.write(row[shift:] + row[:shift])


main()
