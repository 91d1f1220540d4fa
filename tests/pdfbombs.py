"""PDF bombs for the tests and the benchmark: small files whose streams inflate huge.

Each is a real PDF written byte by byte (a catalog, a page, a form whose fields sit in
a compressed object stream, a cross-reference stream), so qpdf reads it as it reads a
sheet a viewer saved; one of its streams is the bomb:

* ``objstm``: the object stream holding the form inflates to ``inflated`` bytes (the
  form's objects, then zeros, which PDF reads as white space);
* ``xref``: the cross-reference stream, read when the file is opened, does;
* ``nested``: the object stream is Flate inside Flate (a deflate of a deflate: a few KB
  become the whole ``inflated`` size, the inner stream a thousandth of it);
* ``runlength``: Flate over RunLength (each two bytes become 128 zeros);
* ``predictor``: Flate with a PNG predictor (``/DecodeParms``), rows of zeros;
* ``lzw``: Flate over LZW (qpdf sets no memory limit on LZW: only the reading
  process's own limit holds it);
* ``many``: ``count`` object streams, one field each, that together inflate to
  ``inflated`` bytes (each one small);
* ``length``: the object stream's ``/Length`` claims far more bytes than the file holds.

A deflate stream of zeros is built from one compressed block repeated (Deflate's full
flush makes blocks that stand alone), so a file that inflates to 20 GB takes no time to
make; its Adler-32 checksum is computed, not inflated.
"""

from __future__ import annotations

import csv
import functools
import subprocess
import sys
import time
import zlib
from pathlib import Path

KINDS = ("objstm", "xref", "nested", "runlength", "predictor", "lzw", "many", "length")

_BLOCK = 1 << 20
_ADLER = 65521


def deflated(prefix: bytes, zeros: int) -> bytes:
    """A zlib stream of ``prefix`` then ``zeros`` zero bytes (about a thousandth of its size)."""
    c = zlib.compressobj(9)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    body = _zero_block() * (zeros // _BLOCK)
    tail = c.compress(bytes(zeros % _BLOCK)) + c.flush()
    a, b = zlib.adler32(prefix) & 0xFFFF, zlib.adler32(prefix) >> 16
    b = (b + zeros * a) % _ADLER  # each zero byte adds A to B and nothing to A
    return head + body + tail[:-4] + ((b << 16) | a).to_bytes(4, "big")


@functools.cache
def _zero_block() -> bytes:
    """:data:`_BLOCK` zeros deflated after a full flush: a block that refers to nothing
    before it, so it may follow any other and be repeated."""
    c = zlib.compressobj(9)
    c.compress(b"any prefix")
    c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(_BLOCK)) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == c.compress(bytes(_BLOCK)) + c.flush(zlib.Z_FULL_FLUSH)
    return block


def bomb(kind: str, inflated: int, count: int = 1) -> bytes:
    """A PDF of ``kind`` (see the module) whose bomb inflates to about ``inflated`` bytes."""
    if kind not in KINDS:
        raise ValueError(kind)
    objects: dict[int, bytes] = {
        1: b"<</Type/Catalog/Pages 2 0 R/AcroForm 4 0 R>>",
        2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
    }
    fields = max(count, 1) if kind == "many" else 1
    field_nums = [10 + 2 * k for k in range(fields)]  # 10, 12, ...: each its stream after it
    form = b"<</Fields[" + b" ".join(b"%d 0 R" % n for n in field_nums) + b"]>>"
    objects[4] = form
    compressed: dict[int, tuple[int, int]] = {}  # object -> (its stream, index)
    for n in field_nums:
        field = b"<</FT/Tx/T(q1.f_t[%d])/V(0.5)>>" % (n // 2 - 4)
        zeros = 0
        if kind != "xref":
            zeros = inflated // fields
        objects[n + 1] = _object_stream([(n, field)], zeros, kind)
        compressed[n] = (n + 1, 0)
    return _file(objects, compressed, inflated if kind == "xref" else 0)


def _object_stream(members: list[tuple[int, bytes]], zeros: int, kind: str) -> bytes:
    """An object stream holding ``members``, padded to ``zeros`` more bytes, as ``kind``."""
    header, body = b"", b""
    for num, obj in members:
        header += b"%d %d " % (num, len(body))
        body += obj + b" "
    plain = header + body
    extra = b""
    if kind == "nested":
        data = zlib.compress(deflated(plain, zeros), 9)
        extra = b"/Filter[/FlateDecode/FlateDecode]"
    elif kind == "runlength":
        data = _chunked(_runlength_literal(plain), b"\x81\x00", -(-zeros // 128), b"\x80")
        extra = b"/Filter[/FlateDecode/RunLengthDecode]"
    elif kind == "predictor":
        columns = 1000
        # rows of zeros under the filter byte 0 (None): all zero bytes
        data = deflated(b"\x00" + plain.ljust(columns, b" "), (zeros // columns) * (columns + 1))
        extra = b"/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns %d>>" % columns
    elif kind == "lzw":
        data = zlib.compress(lzw_zeros(plain, zeros), 9)
        extra = b"/Filter[/FlateDecode/LZWDecode]"
    else:
        data = deflated(plain, zeros)
        extra = b"/Filter/FlateDecode"
    length = len(data) * 1000 if kind == "length" else len(data)
    return (
        b"<</Type/ObjStm/N %d/First %d/Length %d%s>>\nstream\n"
        % (len(members), len(header), length, extra)
        + data
        + b"\nendstream"
    )


def _chunked(head: bytes, unit: bytes, times: int, tail: bytes) -> bytes:
    """A zlib stream of ``head``, ``unit`` ``times`` times, ``tail``: compressed a few MB at
    a time."""
    c = zlib.compressobj(9)
    out = [c.compress(head)]
    step = max(1, (4 << 20) // len(unit))
    for k in range(0, times, step):
        out.append(c.compress(unit * min(step, times - k)))
    out.append(c.compress(tail) + c.flush())
    return b"".join(out)


#: Codes an LZW cycle of zeros emits before it clears the table (it holds 4,096).
_LZW_CYCLE = 3000


def lzw_zeros(plain: bytes, zeros: int) -> bytes:
    """PDF LZW (early change 1) of ``plain`` (each byte a code of its own), then at least
    ``zeros`` zero bytes: runs of 1, 2, 3, ... zeros, each a new code, the table cleared
    every :data:`_LZW_CYCLE` codes (some 4.5 MB of zeros a cycle)."""

    def bits(codes: list[int], width: int) -> tuple[str, int]:
        """The codes as bits, each as wide as the decoder then reads, and the width after."""
        out, since_clear = [], 0
        for code in codes:
            out.append(format(code, f"0{width}b"))
            if code == 256:  # the clear code: the decoder starts its table again
                width, since_clear = 9, 0
                continue
            since_clear += 1
            if since_clear >= 2 and 258 + since_clear - 2 + 1 in (511, 1023, 2047):
                width += 1  # the entry just added fills this width (early change)
        return "".join(out), width

    first, width = bits([256, *plain], 9)
    codes = [256, 0, *range(258, 258 + _LZW_CYCLE - 1)]
    cycle_one, width = bits(codes, width)
    cycle, width = bits(codes, width)
    per_cycle = _LZW_CYCLE * (_LZW_CYCLE + 1) // 2
    cycles = max(1, -(-zeros // per_cycle))
    end, _ = bits([256, 257], width)
    stream = first + cycle_one + cycle * (cycles - 1) + end
    stream += "0" * (-len(stream) % 8)
    return int(stream, 2).to_bytes(len(stream) // 8, "big")


def _runlength_literal(data: bytes) -> bytes:
    out = b""
    for k in range(0, len(data), 128):
        chunk = data[k : k + 128]
        out += bytes([len(chunk) - 1]) + chunk
    return out


def _file(objects: dict[int, bytes], compressed: dict[int, tuple[int, int]], zeros: int) -> bytes:
    """The whole file: the plain objects, then a cross-reference stream (padded with
    ``zeros`` zero bytes past its entries when the bomb is the cross-reference stream)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref_num = max([*objects, *compressed]) + 1
    offsets[xref_num] = len(out)
    size = xref_num + 1
    rows = bytearray()
    for num in range(size):
        if num in offsets:
            rows += b"\x01" + offsets[num].to_bytes(4, "big") + b"\x00\x00"
        elif num in compressed:
            stm, idx = compressed[num]
            rows += b"\x02" + stm.to_bytes(4, "big") + idx.to_bytes(2, "big")
        else:
            rows += b"\x00" + bytes(4) + b"\xff\xff"
    data = deflated(bytes(rows), zeros)
    out += (
        b"%d 0 obj\n<</Type/XRef/Size %d/W[1 4 2]/Root 1 0 R/Length %d/Filter/FlateDecode>>"
        b"\nstream\n" % (xref_num, size, len(data)) + data + b"\nendstream\nendobj\n"
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_num]
    return bytes(out)


# --- a class that holds bombs, graded under a memory limit ---------------------------------

#: The sizes of the attack (issue 21): 255 KB, 1 MB, 4 MB and just under the 20 MB cap.
FILE_SIZES = (255_000, 1_000_000, 4_000_000, 19_900_000)


def sized(kind: str, file_bytes: int) -> bytes:
    """A bomb of ``kind`` about ``file_bytes`` long (zeros inflate about a thousandfold)."""
    probe = 100_000_000
    return bomb(kind, probe * file_bytes // len(bomb(kind, probe)))


def make_class(root: Path, bombs: dict[str, bytes], ordinary: int) -> tuple[Path, Path]:
    """A worksheet of ``len(bombs) + ordinary`` students (no PDFs) and their submissions:
    the first students hand in the bombs (``name: bytes``, in their order, as
    ``<id>.pdf``), the others their key's answers as CSV. The worksheet and the submissions folder."""
    from lstm_exam.generator.generate import generate
    from lstm_exam.generator.spec.roster import numbered_roster
    from lstm_exam.generator.spec.worksheet import load_spec

    students = numbered_roster(len(bombs) + ordinary)
    worksheet = root / "wk"
    generate(load_spec(None), students, worksheet, seed="pdf-bomb-class-seed")
    subs = root / "subs"
    subs.mkdir()
    for s, data in zip(students, bombs.values(), strict=False):
        (subs / f"{s.student_id}.pdf").write_bytes(data)
    for s in students[len(bombs) :]:
        with (worksheet / "keys" / f"{s.student_id}.csv").open(newline="") as f:
            rows = [(r["label"], r["answer"]) for r in csv.DictReader(f)]
        text = "label,answer\n" + "".join(f"{lab},{val}\n" for lab, val in rows)
        (subs / f"{s.student_id}.csv").write_text(text)
    return worksheet, subs


#: Runs a command under an address-space limit and prints its peak RSS (KB) from wait4: a
#: small process of its own, since a child's peak counts what its parent held at the fork.
_MEASURE = """
import os, resource, sys
limit = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def grade_measured(
    worksheet: Path, subs: Path, out: Path, memory: int
) -> tuple[int, int, float, str]:
    """``lstm-exam grade`` run under an address-space limit of ``memory`` bytes: its exit
    code, its peak RSS (bytes, the largest of it and every process it started), its wall
    time (s) and its error output."""
    exe = Path(sys.executable).with_name("lstm-exam")
    cmd = [str(exe), "grade", str(worksheet), str(subs), "--out", str(out)]
    start = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(memory), *cmd], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    code, peak_kb = (int(x) for x in res.stdout.split()[-2:])
    return code, peak_kb * 1024, wall, res.stderr
