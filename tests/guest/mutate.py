#!/usr/bin/python3
"""Structure-aware mutation of linux-cr images, for fuzzing restart(2).

The record layouts come from the uapi header cr-tool compiles against
(build/uapi/linux/checkpoint.h with the asm/checkpoint.h it includes, else the same
in linux-cr/),
parsed here, so a record kind added to the header is mutated field by
field without a change to this file. A mutant is a valid image from the
test suite with one to four of:

  field   a field of a record set to a value chosen for what the field is
          (a length or count, an objref, a pid, an address, flags, a
          reserved word), the record's fixed struct or an element of its
          variable array (TREE entries, fd entries, siginfos, PAGES addresses)
  len     a record's len changed without its bytes (the framing lies), or
          the record grown or shrunk with len following
  type    a record's type changed (another kind, an unknown number)
  drop / dup / swap / move   whole records
  splice  a record of another seed image inserted or put in place of one
  pages   a PAGES record with a huge count, unordered or unaligned addresses
  trunc   the stream cut at a record boundary or at any byte
  raw     bit flips, bytes set, bytes inserted or deleted

and then, for a share of mutants, the trailer's record count and XXH64 set
right, so the mutant gets past the checksum gate to the commit steps.
Everything is drawn from random.Random(seed): a seed and the seed image give
the same mutant every time.

  mutate.py IMAGE SEED [OUTPUT]     write one mutant and print what was done
"""

import os
import random
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import xxhash     # Debian's python3-xxhash: the stream's XXH64

TOP = Path(__file__).resolve().parents[2]
# (the generic header, the architecture's records it includes)
HEADERS = [(TOP / "build" / "uapi" / "linux" / "checkpoint.h", TOP / "build" / "uapi" / "asm" / "checkpoint.h"),
           (TOP / "linux-cr" / "include" / "uapi" / "linux" / "checkpoint.h",
            TOP / "linux-cr" / "arch" / "x86" / "include" / "uapi" / "asm" / "checkpoint.h")]

SCALARS = {"__u8": (1, False), "__s8": (1, True), "char": (1, True), "__u16": (2, False),
           "__s16": (2, True), "__u32": (4, False), "__s32": (4, True), "__u64": (8, False),
           "__s64": (8, True)}
TASK_SIZE = 0x7FFFFFFFF000
HDR = struct.Struct("<II")
TRAILER = struct.Struct("<IIQQ")    # type, len, nr_records, checksum


@dataclass
class Field:
    name: str           # dotted path, e.g. "tasks.pid" or "rlim[3].cur"
    leaf: str           # last component without index: what the field is
    off: int
    size: int
    signed: bool
    is_bytes: bool = False      # a char/__u8 array, mutated as bytes


@dataclass
class Struct:
    name: str
    size: int
    align: int
    fields: list
    flex: object = None         # (element Struct or scalar Field, offset) of a trailing [] array


@dataclass
class Layout:
    types: dict                 # record type number -> name ("HEADER")
    structs: dict               # struct name -> Struct
    consts: dict
    by_type: dict = field(default_factory=dict)     # record type -> Struct

    def rec_struct(self, rtype):
        return self.by_type.get(rtype)


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _eval_const(expr, consts):
    expr = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr.strip())
    for name in sorted(re.findall(r"[A-Za-z_]\w*", expr), key=len, reverse=True):
        if name not in consts:
            return None
        expr = re.sub(rf"\b{name}\b", str(consts[name]), expr)
    if not re.fullmatch(r"[\s\d()xXa-fA-F<>|&+*~-]+", expr):
        return None
    try:
        return int(eval(expr, {"__builtins__": {}}))   # digits and operators only, checked above
    except Exception:
        return None


def _split_members(body):
    depth, cur, out = 0, [], []
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == ";" and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    return [m for m in out if m]


def _parse_struct_body(name, body, layout):
    fields, off, align, flex = [], 0, 1, None
    for member in _split_members(body):
        m = re.match(r"struct\s*\{(.*)\}\s*(.*)$", member, re.S)
        if m:
            inner = _parse_struct_body(f"{name}.anon", m.group(1), layout)
            decls, elem = m.group(2), inner
        else:
            m = re.match(r"(struct\s+\w+|\w+)\s+(.*)$", member, re.S)
            if not m:
                continue
            tname, decls = m.group(1), m.group(2)
            if tname.startswith("struct"):
                elem = layout.structs.get(tname.split()[1])
                if elem is None:
                    raise ValueError(f"struct {name}: unknown {tname}")
            elif tname in SCALARS:
                elem = SCALARS[tname] + (tname in ("char", "__u8"),)
            else:
                raise ValueError(f"struct {name}: unknown type {tname}")
        for decl in decls.split(","):
            dm = re.match(r"\s*(\w+)\s*(?:\[([^\]]*)\])?\s*$", decl)
            if not dm:
                continue
            ident, dim = dm.group(1), dm.group(2)
            esize, ealign = (elem.size, elem.align) if isinstance(elem, Struct) else (elem[0], elem[0])
            off = (off + ealign - 1) // ealign * ealign
            align = max(align, ealign)
            if dim == "":       # flexible array member
                flex = (elem if isinstance(elem, Struct) else
                        Field(ident, ident, 0, elem[0], elem[1], elem[2]), off, ident)
                continue
            count = 1 if dim is None else _eval_const(dim, layout.consts)
            if count is None:
                raise ValueError(f"struct {name}: cannot size {ident}[{dim}]")
            if isinstance(elem, Struct):
                for i in range(count):
                    prefix = ident if dim is None else f"{ident}[{i}]"
                    for f in elem.fields:
                        fields.append(Field(f"{prefix}.{f.name}", f.leaf, off + i * esize + f.off, f.size,
                                            f.signed, f.is_bytes))
            elif elem[2] and dim is not None:
                fields.append(Field(ident, ident, off, esize * count, False, True))
            else:
                for i in range(count):
                    fields.append(Field(ident if dim is None else f"{ident}[{i}]", ident, off + i * esize,
                                        esize, elem[1]))
            off += esize * count
    size = (off + align - 1) // align * align
    return Struct(name, size, align, fields, flex)


def parse_header(text):
    text = _strip_comments(text)
    consts = {}
    for m in re.finditer(r"^\s*#define\s+(\w+)\s+(.+?)\s*$", text, re.M):
        v = _eval_const(m.group(2), consts)
        if v is not None:
            consts[m.group(1)] = v
    types = {}
    em = re.search(r"enum\s+cr_rec_type\s*\{(.*?)\}", text, re.S)
    for m in re.finditer(r"CR_REC_(\w+)\s*=\s*([^,\s]+)", em.group(1) if em else ""):
        v = _eval_const(m.group(2), consts)
        if v is not None and m.group(1) != "TYPE_MAX":
            types[v] = m.group(1)
            consts["CR_REC_" + m.group(1)] = v
    layout = Layout(types, {}, consts)
    pos = 0
    while (m := re.compile(r"struct\s+(\w+)\s*\{").search(text, pos)):
        depth, i = 0, m.end() - 1
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        body = text[m.end():i]
        layout.structs[m.group(1)] = _parse_struct_body(m.group(1), body, layout)
        pos = i + 1
    for num, name in types.items():
        s = layout.structs.get("cr_rec_" + name.lower())
        if s is not None:
            layout.by_type[num] = s
    return layout


_LAYOUT = None


def header_text(path, arch):
    """The uapi header with the architecture's records where it includes them."""
    text = path.read_text()
    include = "#include <asm/checkpoint.h>"
    if include not in text:
        raise ValueError(f"{path} does not include {include}")
    return text.replace(include, arch.read_text())


def load_layout():
    global _LAYOUT
    if _LAYOUT is None:
        for path, arch in HEADERS:
            if path.exists() and arch.exists():
                _LAYOUT = parse_header(header_text(path, arch))
                break
        else:
            raise FileNotFoundError("no checkpoint.h: " + ", ".join(str(p) for p, _ in HEADERS))
    return _LAYOUT


# ---- the stream ----

def split_records(data):
    """[(type, bytes)] of the whole records, and the bytes that do not frame as one."""
    recs, off = [], 0
    while off + 8 <= len(data):
        rtype, rlen = HDR.unpack_from(data, off)
        if rlen < 8 or rlen % 8 or off + rlen > len(data):
            break
        recs.append([rtype, bytearray(data[off:off + rlen])])
        off += rlen
    return recs, bytes(data[off:])


def join_records(recs, tail=b""):
    return b"".join(bytes(r[1]) for r in recs) + tail


def fix_trailer(data, layout, count=True):
    """Make the final TRAILER vouch for @data: XXH64 of what precedes it (and the record count)."""
    if len(data) < TRAILER.size:
        return data, False
    t_off = len(data) - TRAILER.size
    rtype, rlen, nr, _ = TRAILER.unpack_from(data, t_off)
    if rtype != layout.consts.get("CR_REC_TRAILER", 3) or rlen != TRAILER.size:
        return data, False
    if count:
        nr = len(split_records(data[:t_off])[0])
    out = bytearray(data)
    TRAILER.pack_into(out, t_off, rtype, rlen, nr, xxhash.xxh64_intdigest(bytes(data[:t_off])))
    return bytes(out), True


def set_fields(data, rtype, index=0, tail=None, **fields):
    """@data with fields of its @index'th record of type @rtype (a name, "CREDS") set by name
    ("uid", "rlim[7].max"), its variable part replaced by @tail if given (len follows, padded
    to 8), and the trailer set right: a hand-made image only the kernel's own checks refuse."""
    layout = load_layout()
    recs, rest = split_records(data)
    num = {v: k for k, v in layout.types.items()}[rtype]
    i = [j for j, (t, _) in enumerate(recs) if t == num][index]
    s = layout.rec_struct(num)
    buf = recs[i][1]
    if tail is not None:
        buf = bytearray(bytes(buf[:s.size]) + bytes(tail))
        buf += bytes(-len(buf) % 8)
        struct.pack_into("<I", buf, 4, len(buf))
    by_name = {f.name: f for f in s.fields}
    for name, value in fields.items():
        _put(buf, by_name[name], value)
    recs[i][1] = buf
    out, ok = fix_trailer(join_records(recs, rest), layout)
    if not ok:
        raise ValueError("the image does not end with a TRAILER")
    return out


# ---- values ----

def _mask(v, size):
    return v & ((1 << (8 * size)) - 1)


def _get(buf, f):
    return int.from_bytes(buf[f.off:f.off + f.size], "little", signed=f.signed)


def _put(buf, f, v):
    buf[f.off:f.off + f.size] = _mask(v, f.size).to_bytes(f.size, "little")


COUNT_NAMES = {"ngroups", "count", "capacity", "size", "len", "nr", "xsave_size", "nr_records", "ticks"}
PID_NAMES = {"pid", "tgid", "ppid", "pgid", "sid"}
FLAG_NAMES = {"flags", "kind", "prot", "mode", "stop", "personality", "clockid", "securebits",
              "rmtp_type", "umask", "exit_code", "exit_signal", "pdeath_signal", "sas_ss_flags",
              "version", "arch", "page_size", "rseq_sig"}


def field_class(f):
    leaf = f.leaf
    if f.is_bytes:
        return "bytes"
    if leaf == "reserved":
        return "reserved"
    if leaf == "objref" or leaf.endswith("_ref"):
        return "objref"
    if leaf in PID_NAMES:
        return "pid"
    if leaf.startswith("nr") or leaf.endswith("_len") or leaf in COUNT_NAMES or leaf.endswith("_size"):
        return "count"
    if leaf in FLAG_NAMES or leaf.startswith("cap_"):
        return "flags"
    return "int"


def interesting(rng, cls, v, size, ctx, layout):
    bits = 8 * size
    top = (1 << bits) - 1
    c = layout.consts
    common = [0, 1, top, top >> 1, (top >> 1) + 1, v + 1, v - 1]
    if cls == "count":
        pool = common + [v * 2, v + 8, v + 256, 8, 16, 255, 256, 257, 4096, 65535, 65536, 65537, 1 << 20,
                         (1 << 20) + 1, (1 << 24) + 1, c.get("CR_PAGES_PER_REC", 256) + 1,
                         c.get("CR_MAX_TASKS", 32768) + 1, c.get("CR_NGROUPS_MAX", 65536) + 1,
                         c.get("CR_MAX_FDS", 1 << 20) + 1, c.get("CR_PATH_MAX", 4096) + 1]
    elif cls == "objref":
        ids = sorted(ctx.get("objrefs", ())) or [1]
        pool = common + [rng.choice(ids), rng.choice(ids), max(ids) + 1, c.get("CR_MAX_OBJREF", 1 << 24),
                         c.get("CR_MAX_OBJREF", 1 << 24) - 1]
    elif cls == "pid":
        pids = ctx.get("pids") or [1]
        pool = common + [rng.choice(pids), rng.choice(pids), 4194304, 4194305, -(1 << 31), 2, 0x7FFFFFFF]
    elif cls == "flags":
        k = rng.randrange(bits)
        pool = [0, top, v | (1 << k), v ^ (1 << k), v & ~(1 << k), v | 0x80000000, 1 << k]
    elif cls == "reserved":
        pool = [1, top, 1 << rng.randrange(bits)]
    else:
        k = rng.randrange(bits)
        pool = common + [v ^ (1 << k), v + 4096, v - 4096, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000,
                         0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
        if size == 8:
            pool += [TASK_SIZE, TASK_SIZE - 4096, TASK_SIZE + 4096, 1 << 47, 0xFFFF800000000000, 1 << 63,
                     1 << 32, v | 0xFFF]
    return rng.choice(pool)


# ---- operators ----

class Mutator:
    def __init__(self, image, layout=None, others=()):
        self.layout = layout or load_layout()
        self.image = bytes(image)
        self.others = [bytes(o) for o in others]
        recs, _ = split_records(self.image)
        self.ctx = {"objrefs": set(), "pids": []}
        for rtype, buf in recs:
            s = self.layout.rec_struct(rtype)
            if s is None:
                continue
            for f in s.fields:
                if len(buf) >= f.off + f.size:
                    if field_class(f) == "objref" and _get(buf, f):
                        self.ctx["objrefs"].add(_get(buf, f))
                    elif field_class(f) == "pid" and _get(buf, f) > 0:
                        self.ctx["pids"].append(_get(buf, f))

    def _pick_record(self, rng, recs, skip_frame=True):
        """A record index, the first two (HEADER, TREE) rarely: cr-tool checks them itself."""
        if not recs:
            return None
        if skip_frame and len(recs) > 3 and rng.random() < 0.9:
            return rng.randrange(2, len(recs))
        return rng.randrange(len(recs))

    def _fields_of(self, rtype, buf, rng):
        """The fields of @buf (the fixed struct, or one element of its variable array)."""
        s = self.layout.rec_struct(rtype)
        if s is None:
            return [], 0
        fixed = [f for f in s.fields if f.off >= 8 and f.off + f.size <= len(buf)]
        if s.flex and rng.random() < 0.4:
            elem, off, _ = s.flex
            esize = elem.size if isinstance(elem, Struct) else elem.size
            n = (len(buf) - off) // esize if esize else 0
            if n > 0:
                base = off + esize * rng.randrange(min(n, 4096))
                if isinstance(elem, Struct):
                    return [Field(f.name, f.leaf, base + f.off, f.size, f.signed, f.is_bytes)
                            for f in elem.fields], base
                if not elem.is_bytes:
                    return [Field(elem.name, elem.leaf, base, elem.size, elem.signed)], base
        return fixed, 0

    def op_field(self, rng, recs):
        for _ in range(8):
            i = self._pick_record(rng, recs)
            rtype, buf = recs[i]
            fields, _ = self._fields_of(rtype, buf, rng)
            if fields:
                break
        else:
            return None
        f = rng.choice(fields)
        name = self.layout.types.get(rtype, str(rtype))
        if f.is_bytes:
            j = f.off + rng.randrange(f.size)
            old = buf[j]
            buf[j] = rng.choice([0, 0xFF, ord("/"), old ^ 0x20, 0x80])
            return f"field {name}#{i}.{f.name}[{j - f.off}] {old:#x}->{buf[j]:#x}"
        cls = field_class(f)
        old = _get(buf, f)
        new = interesting(rng, cls, old, f.size, self.ctx, self.layout)
        _put(buf, f, new)
        return f"field {name}#{i}.{f.name} ({cls}) {old:#x}->{_mask(new, f.size):#x}"

    def op_len(self, rng, recs):
        i = self._pick_record(rng, recs)
        rtype, buf = recs[i]
        name = self.layout.types.get(rtype, str(rtype))
        old = len(buf)
        if rng.random() < 0.5:
            new = rng.choice([old + 8, old - 8, old + 4, old - 4, 0, 8, 16, old * 2, 0xFFFFFFFF, 0xFFFFFFF8,
                              self.layout.consts.get("CR_REC_MAX_LEN", 1 << 24),
                              self.layout.consts.get("CR_REC_MAX_LEN", 1 << 24) + 8])
            struct.pack_into("<I", buf, 4, _mask(new, 4))
            return f"len {name}#{i} {old}->{_mask(new, 4)} (bytes kept)"
        if rng.random() < 0.5 or old <= 16:
            grow = 8 * rng.choice([1, 1, 2, 16, 512])
            buf.extend(bytes(grow) if rng.random() < 0.7 else rng.randbytes(grow))
        else:
            del buf[old - 8 * rng.randint(1, max(1, min((old - 8) // 8, 4))):]
        struct.pack_into("<I", buf, 4, len(buf))
        return f"len {name}#{i} {old}->{len(buf)} (resized)"

    def op_type(self, rng, recs):
        i = self._pick_record(rng, recs)
        rtype = recs[i][0]
        new = rng.choice(list(self.layout.types) + [0, 4, 9, 99, 0xFFFFFFFF, max(self.layout.types) + 1])
        struct.pack_into("<I", recs[i][1], 0, new)
        recs[i][0] = new
        return f"type #{i} {self.layout.types.get(rtype, rtype)}->{self.layout.types.get(new, new)}"

    def op_records(self, rng, recs):
        if len(recs) < 3:
            return None
        kind = rng.choice(["drop", "dup", "swap", "swap-near", "move"])
        i = self._pick_record(rng, recs)
        name = self.layout.types.get(recs[i][0], recs[i][0])
        if kind == "drop":
            del recs[i]
            return f"drop {name}#{i}"
        if kind == "dup":
            j = i + 1 if rng.random() < 0.6 else rng.randrange(1, len(recs) + 1)
            recs.insert(j, [recs[i][0], bytearray(recs[i][1])])
            return f"dup {name}#{i} at {j}"
        if kind == "swap-near":
            j = min(i + 1, len(recs) - 1) if i + 1 < len(recs) else i - 1
        else:
            j = self._pick_record(rng, recs)
        if kind == "move":
            rec = recs.pop(i)
            recs.insert(j, rec)
            return f"move {name}#{i} to {j}"
        recs[i], recs[j] = recs[j], recs[i]
        return f"swap {name}#{i} with {self.layout.types.get(recs[i][0], recs[i][0])}#{j}"

    def op_splice(self, rng, recs):
        if not self.others:
            return None
        other, _ = split_records(rng.choice(self.others))
        if len(other) < 3:
            return None
        k = rng.randrange(2, len(other))
        rec = [other[k][0], bytearray(other[k][1])]
        name = self.layout.types.get(rec[0], rec[0])
        same = [j for j, r in enumerate(recs) if r[0] == rec[0]]
        if same and rng.random() < 0.6:
            j = rng.choice(same)
            recs[j] = rec
            return f"splice {name} of another image over #{j}"
        j = self._pick_record(rng, recs)
        recs.insert(j, rec)
        return f"splice {name} of another image at #{j}"

    def op_pages(self, rng, recs):
        ptype = self.layout.consts.get("CR_REC_PAGES")
        pages = [j for j, r in enumerate(recs) if r[0] == ptype]
        if not pages:
            return None
        j = rng.choice(pages)
        buf = recs[j][1]
        nr = struct.unpack_from("<I", buf, 8)[0]
        nr = min(nr, max(0, (len(buf) - 16) // 8))     # an earlier operator may have made it lie
        what = rng.choice(["nr", "nr", "order", "align", "outside"])
        if what == "nr" or nr < 2:
            new = rng.choice([nr + 1, 0, 257, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 20])
            struct.pack_into("<I", buf, 8, new)
            return f"pages #{j}.nr {nr}->{new}"
        a = rng.randrange(nr)
        off = 16 + 8 * a
        if what == "order":
            b = (a + 1) % nr
            va, vb = struct.unpack_from("<Q", buf, off)[0], struct.unpack_from("<Q", buf, 16 + 8 * b)[0]
            struct.pack_into("<Q", buf, off, vb)
            struct.pack_into("<Q", buf, 16 + 8 * b, va)
            return f"pages #{j}.vaddr[{a}]<->[{b}]"
        v = struct.unpack_from("<Q", buf, off)[0]
        new = v + 1 if what == "align" else rng.choice([0, TASK_SIZE, v + (1 << 30), v - (1 << 30), 4096])
        struct.pack_into("<Q", buf, off, _mask(new, 8))
        return f"pages #{j}.vaddr[{a}] {v:#x}->{_mask(new, 8):#x}"

    OPS = [("field", 10), ("len", 2), ("type", 1), ("records", 3), ("splice", 1), ("pages", 2)]

    def mutate(self, seed):
        """(mutant bytes, [what was done]) for @seed."""
        rng = random.Random(seed)
        recs, tail = split_records(self.image)
        desc = []
        data = self.image
        # An operator may change nothing (a field set to the value it had): then one more.
        for attempt in range(6):
            n = 1 if attempt or rng.random() < 0.5 else rng.randint(2, 4)
            data, more = self._apply(rng, recs, tail, n)
            desc += more
            if data != self.image:
                break
        r = rng.random()
        if r < 0.55:
            data, ok = fix_trailer(data, self.layout, count=True)
            desc.append("trailer fixed" if ok else "no trailer to fix")
        elif r < 0.7:
            data, ok = fix_trailer(data, self.layout, count=False)
            desc.append("checksum fixed" if ok else "no trailer to fix")
        return data, desc

    def _apply(self, rng, recs, tail, n):
        """Apply @n operators to @recs (in place) and the raw ones to the stream: (bytes, [what])."""
        done = []
        for _ in range(n):
            r = rng.random()
            if r < 0.08:
                done.append(("raw", None))
                continue
            if r < 0.14:
                done.append(("trunc", None))
                continue
            names, weights = zip(*self.OPS)
            for _ in range(4):
                op = rng.choices(names, weights)[0]
                what = getattr(self, "op_" + op)(rng, recs)
                if what:
                    done.append((op, what))
                    break
        data = join_records(recs, tail)
        desc = []
        for op, what in done:
            if op == "raw":
                data, what = self.raw(rng, data)
            elif op == "trunc":
                data, what = self.truncate(rng, data)
            desc.append(what)
        return data, desc

    def raw(self, rng, data):
        data = bytearray(data)
        if not data:
            return bytes(data), "raw on nothing"
        recs, _ = split_records(data)
        # Aim at the first 512 bytes of a record mostly: page data flips only change memory.
        if recs and rng.random() < 0.8:
            starts, off = [], 0
            for _, buf in recs:
                starts.append((off, len(buf)))
                off += len(buf)
            s, n = starts[self._pick_record(rng, recs)]
            pos = s + rng.randrange(min(n, 512))
        else:
            pos = rng.randrange(len(data))
        kind = rng.choice(["flip", "flip", "byte", "word", "insert", "delete"])
        if kind == "flip":
            bits = rng.randint(1, 4)
            for _ in range(bits):
                p = min(len(data) - 1, pos + rng.randrange(8))
                data[p] ^= 1 << rng.randrange(8)
            return bytes(data), f"raw flip {bits} bits near {pos}"
        if kind == "byte":
            data[pos] = rng.choice([0, 0xFF, 0x7F, 0x80, 1])
            return bytes(data), f"raw byte {pos}={data[pos]:#x}"
        if kind == "word":
            data[pos:pos + 8] = rng.randbytes(8)
            return bytes(data), f"raw 8 random bytes at {pos}"
        n = rng.choice([1, 4, 8, 16])
        if kind == "insert":
            data[pos:pos] = rng.randbytes(n)
            return bytes(data), f"raw insert {n} bytes at {pos}"
        del data[pos:pos + n]
        return bytes(data), f"raw delete {n} bytes at {pos}"

    def truncate(self, rng, data):
        recs, _ = split_records(data)
        if recs and rng.random() < 0.5:
            k = rng.randrange(1, len(recs) + 1)
            cut = sum(len(b) for _, b in recs[:k - 1]) + (0 if rng.random() < 0.7 else 8)
            return data[:cut], f"trunc at record #{k - 1} (+{cut - sum(len(b) for _, b in recs[:k - 1])})"
        cut = rng.randrange(len(data)) if data else 0
        return data[:cut], f"trunc at byte {cut} of {len(data)}"


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    image = Path(argv[1]).read_bytes()
    data, desc = Mutator(image).mutate(int(argv[2], 0))
    out = Path(argv[3]) if len(argv) == 4 else Path(argv[1] + f".mut{argv[2]}")
    out.write_bytes(data)
    os.chmod(out, 0o644)
    print(f"{out}: {len(data)} bytes: " + "; ".join(desc))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
