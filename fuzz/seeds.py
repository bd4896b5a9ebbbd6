#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into corpus/<target>/seed-*.

Run from fuzz/ (`python3 seeds.py`); it only adds or overwrites seed-* files, so the inputs
the fuzzer found and kept stay. Each seed is a real input: connection strings from the unit
tests, backend message runs from src/core/response.rs's fixtures, binary values as the server
sends them, and copyFrom rows as lib/params.js writes them.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- connstring
CONNSTRINGS = [
    "postgres://u:secretpw@h/db",
    "postgresql://al%40ice:p%3Ass@db.example:6543/my%20db?application_name=app&connect_timeout=7&options=-c%20statement_timeout%3D5",
    "postgres://u@[::1]:5433/db",
    "postgres://u@a,b:6000,/d?host=x,y,/tmp",
    "postgres://u@a:1,b:2/db",
    "postgres:///db?host=/tmp&user=x",
    "postgres://u@%2Fvar%2Frun%2Fpostgresql/db",
    "postgres://u:secretpw@h:99999/db",
    "postgres://u:secretpw@h/db?nope=1",
    "postgres://h/db?sslmode=verify-full&sslrootcert=system&target_session_attrs=read-write&load_balance_hosts=random",
    "postgres://h/db?types.int8=number&types.numeric=number&types.date=date&types.timestamp=string&types.results=text",
    "postgres://h/db?max=20&idleTimeoutMillis=1000&maxLifetimeSeconds=60&acquireTimeoutMillis=5&healthCheckAfterMillis=0&statementCacheSize=0&prepare=false&transport=loop",
    "mysql://x",
    "host=localhost port = 5000 user=bob password='it\\'s' dbname='a b' sslmode=disable",
    "host=a,b hostaddr=10.0.0.1, port=1,2",
    "host=a,b,c port=1,2",
    "host=a keepalives_idle=60 keepalives_interval=7 keepalives_count=2 tcp_user_timeout=9000",
    "host=h sslnegotiation=direct sslmode=require channel_binding=require require_auth=scram-sha-256",
    "host=h ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2",
    "hostaddr=127.0.0.1 port=7 connect_timeout=3 client_encoding=UTF8",
    "host=x bogus=1 password=secretpw",
    "service=mydb host=h",
    "user=\\'a\\ b dbname='unterminated",
]
for i, s in enumerate(CONNSTRINGS):
    write("connstring", f"{i:02}", s)


# ---------------------------------------------------------------- response
def msg(tag, body=b""):
    return bytes([ord(tag)]) + struct.pack(">I", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


def complete(tag):
    return msg("C", cstr(tag))


def ready(status):
    return msg("Z", status.encode())


def data_row(values):
    b = struct.pack(">H", len(values))
    for v in values:
        b += struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v
    return msg("D", b)


def row_description(cols):
    b = struct.pack(">H", len(cols))
    for name, oid in cols:
        b += cstr(name) + struct.pack(">IhIhih", 0, 0, oid, -1, -1, 1)
    return msg("T", b)


def error(severity, code, message):
    b = b""
    for t, v in (("S", severity), ("V", severity), ("C", code), ("M", message)):
        b += t.encode() + cstr(v)
    return msg("E", b + b"D" + cstr("some detail") + b"\0")


NOTICE = msg("N", b"S" + cstr("NOTICE") + b"M" + cstr("hello") + b"\0")
PARAMETER_STATUS = msg("S", cstr("TimeZone") + cstr("UTC"))
PARSE_COMPLETE = msg("1")
BIND_COMPLETE = msg("2")
COPY_FORMAT = b"\0" + struct.pack(">HH", 1, 0)

RESPONSES = {
    "rows": [PARSE_COMPLETE, BIND_COMPLETE, data_row([b"\0\0\0\x01", None]),
             data_row([b"\0\0\0\x02", b"x"]), complete("SELECT 2"), ready("I")],
    "error-mid-batch": [BIND_COMPLETE, complete("INSERT 0 1"), BIND_COMPLETE,
                        error("ERROR", "42P01", 'relation "nope" does not exist'), ready("I")],
    "error-after-rows": [BIND_COMPLETE, data_row([b"1"]), data_row([b"2"]),
                         error("ERROR", "22012", "division by zero"), ready("E")],
    "notices": [row_description([("a", 25)]), NOTICE, data_row([b"x"]), complete("SELECT 1"),
                PARAMETER_STATUS, complete("SET"), ready("T")],
    "script": [complete("BEGIN"), msg("I"), row_description([("a", 25), ("b", 25)]),
               data_row([b"1", b"2"]), complete("SELECT 1"), ready("T")],
    "copy": [msg("H", COPY_FORMAT), msg("d", b"1\tone\n"), msg("c"), complete("COPY 1"),
             msg("G", COPY_FORMAT), error("ERROR", "57014", "COPY from stdin failed: not supported"),
             ready("I")],
    "fatal": [BIND_COMPLETE, data_row([b"1"]),
              error("FATAL", "57P01", "terminating connection due to administrator command")],
    "typed-rows": [row_description([("i", 23), ("n", 1700), ("t", 1184), ("a", 1007), ("j", 3802)]),
                   data_row([struct.pack(">i", 42),
                             struct.pack(">HhHHHH", 2, 0, 0, 2, 12, 3400),
                             struct.pack(">q", 725_000_000_000_000),
                             struct.pack(">iiIii", 1, 0, 23, 2, 1) + struct.pack(">ii", 4, 7) + struct.pack(">i", -1),
                             b"\x01{\"a\":1}"]),
                   data_row([None, None, None, None, None]),
                   complete("SELECT 2"), ready("I"),
                   BIND_COMPLETE, complete("UPDATE 3"), ready("T")],
}
for name, parts in RESPONSES.items():
    write("response", name, b"".join(parts))


# ---------------------------------------------------------------- decode
# byte 0: options (bits 0-1 int8 mode, 2 numeric, 3 date, 4 timestamp, 5 text format, 6 NULL),
# bytes 1-4: type OID (u32 LE), rest: the value.
def dv(flags, oid, value):
    return bytes([flags]) + struct.pack("<I", oid) + value


def numeric(ndigits_list, weight, sign, dscale):
    return struct.pack(">HhHH", len(ndigits_list), weight, sign, dscale) + b"".join(
        struct.pack(">H", d) for d in ndigits_list)


def array(elem_oid, dims, values, has_null=0):
    b = struct.pack(">iiI", len(dims), has_null, elem_oid)
    for d in dims:
        b += struct.pack(">ii", d, 1)
    for v in values:
        b += struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v
    return b


def rng(flags, lo=None, hi=None):
    b = bytes([flags])
    for v in (lo, hi):
        if v is not None:
            b += struct.pack(">i", len(v)) + v
    return b


def record(fields):
    b = struct.pack(">i", len(fields))
    for oid, v in fields:
        b += struct.pack(">I", oid) + (struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v)
    return b


I4 = lambda n: struct.pack(">i", n)
I8 = lambda n: struct.pack(">q", n)
DECODE = {
    "bool": dv(0, 16, b"\x01"),
    "int2": dv(0, 21, struct.pack(">h", -7)),
    "int4": dv(0, 23, I4(123456)),
    "int8-bigint": dv(0, 20, I8(-(2**62))),
    "int8-number": dv(1, 20, I8(2**53)),
    "int8-string": dv(2, 20, I8(42)),
    "oid": dv(0, 26, struct.pack(">I", 4000000000)),
    "float4": dv(0, 700, struct.pack(">f", 1.5)),
    "float8": dv(0, 701, struct.pack(">d", -0.1)),
    "numeric": dv(0, 1700, numeric([12, 3400], 0, 0, 2)),
    "numeric-neg-frac": dv(0, 1700, numeric([1, 5000], -1, 0x4000, 8)),
    "numeric-number": dv(4, 1700, numeric([1234, 5678], 1, 0, 0)),
    "numeric-nan": dv(0, 1700, numeric([], 0, 0xC000, 0)),
    "numeric-ninf": dv(4, 1700, numeric([], 0, 0xF000, 0)),
    "bytea": dv(0, 17, b"\x00\xff\x10"),
    "text": dv(0, 25, "héllo".encode()),
    "json": dv(0, 114, b'{"a":[1,2]}'),
    "jsonb": dv(0, 3802, b'\x01{"a":1}'),
    "uuid": dv(0, 2950, bytes(range(16))),
    "date": dv(0, 1082, I4(8000)),
    "date-as-date": dv(8, 1082, I4(-800000)),
    "date-infinity": dv(8, 1082, I4(2**31 - 1)),
    "timestamp": dv(0, 1114, I8(725_000_000_123_456)),
    "timestamptz-string": dv(16, 1184, I8(-63_000_000_000_000)),
    "timestamp-infinity": dv(16, 1114, I8(2**63 - 1)),
    "time": dv(0, 1083, I8(45_296_000_001)),
    "timetz": dv(0, 1266, I8(3_600_000_000) + I4(-7200)),
    "interval": dv(0, 1186, I8(1_000_001) + I4(3) + I4(14)),
    "char": dv(0, 18, b"x"),
    "inet4": dv(0, 869, bytes([2, 32, 0, 4, 10, 0, 0, 1])),
    "cidr6": dv(0, 650, bytes([3, 64, 1, 16]) + bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 12)),
    "macaddr": dv(0, 829, bytes([8, 0, 0x2b, 1, 2, 3])),
    "varbit": dv(0, 1562, I4(11) + b"\xa5\xe0"),
    "point": dv(0, 600, struct.pack(">dd", 1.5, -2.0)),
    "box": dv(0, 603, struct.pack(">dddd", 1, 2, 0, 0)),
    "polygon": dv(0, 604, I4(2) + struct.pack(">dddd", 0, 0, 1, 1)),
    "circle": dv(0, 718, struct.pack(">ddd", 0, 0, 3)),
    "money": dv(0, 790, I8(-123456)),
    "pg_lsn": dv(0, 3220, struct.pack(">Q", (0x16 << 32) | 0xB374D848)),
    "tid": dv(0, 27, I4(7) + struct.pack(">H", 3)),
    "xid8": dv(0, 5069, struct.pack(">Q", 2**63)),
    "tsvector": dv(0, 3614, I4(2) + b"a'b\0" + struct.pack(">HHH", 2, 1 | (3 << 14), 2) + b"cat\0" + struct.pack(">H", 0)),
    "int4-array-2d": dv(0, 1007, array(23, [2, 2], [I4(1), I4(2), None, I4(4)], 1)),
    "text-array-empty": dv(0, 1009, struct.pack(">iiI", 0, 0, 25)),
    "int4range": dv(0, 3904, rng(0x02, I4(1), I4(10))),
    "numrange-unbounded": dv(0, 3906, rng(0x10, numeric([5], 0, 0, 0))),
    "tsrange-empty": dv(0, 3908, rng(0x01)),
    "null": dv(64, 23, b""),
    # user-defined types (common/mod.rs): 900000 mood, 900001 posint, 900003 pair,
    # 900004 nested, 900005 pair[], 900008 pricerange, 900011 hstore, 900012 ltree
    "enum": dv(0, 900000, b"happy"),
    "domain": dv(0, 900001, I4(5)),
    "record": dv(0, 900003, record([(23, I4(7)), (25, b"seven")])),
    "record-nested": dv(0, 900004, record([
        (900003, record([(23, I4(1)), (25, None)])), (1184, I8(0)),
        (1007, array(23, [1], [I4(3)])), (3904, rng(0x01)), (1700, numeric([1], 0, 0, 0)),
        (900000, b"ok")])),
    "record-array": dv(0, 900005, array(900003, [1], [record([(23, I4(2)), (25, b"b")])])),
    "domain-range": dv(0, 900008, rng(0x06, numeric([1], 0, 0, 0), numeric([2], 0, 0, 0))),
    "hstore": dv(0, 900011, I4(2) + I4(1) + b"a" + I4(1) + b"b" + I4(1) + b"c" + I4(-1)),
    "ltree": dv(0, 900012, b"\x01a.b.c"),
    # text format (simple protocol): the server's text for each type
    "text-int4": dv(32, 23, b"-42"),
    "text-numeric": dv(32, 1700, b"-12345.678900"),
    "text-numeric-exp": dv(32, 1700, b"1.5e3"),
    "text-timestamptz": dv(32, 1184, b"2024-02-29 13:45:00.123456+05:30"),
    "text-date-bc": dv(40, 1082, b"0044-03-15 BC"),
    "text-interval": dv(32, 1186, b"1 year 2 mons 3 days 04:05:06.789"),
    "text-int4-array": dv(32, 1007, b'{{1,2},{NULL,4}}'),
    "text-text-array": dv(32, 1009, b'{"a b","c\\"d",NULL}'),
    "text-range": dv(32, 3904, b"[1,10)"),
    "text-record": dv(32, 900003, b'(7,"seven")'),
    "text-bytea": dv(32, 17, b"\\x00ff10"),
    "text-bool": dv(32, 16, b"t"),
    "text-uuid": dv(32, 2950, b"00010203-0405-0607-0809-0a0b0c0d0e0f"),
    "text-inet": dv(32, 869, b"10.0.0.1/8"),
    "text-point": dv(32, 600, b"(1.5,-2)"),
    "text-box-array": dv(32, 1020, b"{(1,1),(0,0);(2,2),(1,1)}"),
    "text-multirange": dv(32, 4451, b"{[1,3),[5,7)}"),
}
for name, data in DECODE.items():
    write("decode", name, data)


# ---------------------------------------------------------------- copy_encode
# byte 0: column count - 1, then a u32 LE OID per column, then the rows chunk: u32 LE row
# count, then per row a u32 LE value count and tagged values (lib/params.js's format).
def u32(n):
    return struct.pack("<I", n)


def s_(tag, s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([tag]) + u32(len(b)) + b


NULL, FALSE, TRUE = b"\0", b"\x01", b"\x02"
num = lambda x: b"\x03" + struct.pack("<d", x)
big = lambda s: s_(4, s)
st = lambda s: s_(5, s)
byt = lambda b: s_(6, b)
date = lambda ms: b"\x07" + struct.pack("<d", ms)
arr = lambda items: b"\x08" + u32(len(items)) + b"".join(items)
txt = lambda s: s_(10, s)


def obj(fields, json=None, no_json=("", "")):
    # No JSON text: u32::MAX, then the number without a JSON form and its path (lib/params.js).
    missing = u32(0xFFFFFFFF) + b"".join(u32(len(s.encode())) + s.encode() for s in no_json)
    b = b"\x09" + (missing if json is None else u32(len(json.encode())) + json.encode())
    b += u32(len(fields))
    for k, v in fields:
        b += u32(len(k)) + k.encode() + v
    return b


def copy(oids, rows):
    b = bytes([len(oids) - 1]) + b"".join(u32(o) for o in oids)
    b += u32(len(rows))
    for r in rows:
        b += u32(len(r)) + b"".join(r)
    return b


def params(oids, values):
    return bytes([len(oids) - 1]) + b"".join(u32(o) for o in oids) + u32(len(values)) + b"".join(values)


COPY = {
    "ints": copy([23, 20, 21], [[num(1), big("9007199254740993"), num(-3)], [NULL, st("42"), num(7)]]),
    "text-bool-bytea": copy([25, 16, 17], [[st("héllo"), TRUE, byt(b"\0\1")], [num(1.5), FALSE, NULL]]),
    "numeric": copy([1700, 1700], [[st("-12345.6789"), num(0.1)], [st("1.5e3"), big("-1")],
                                   [st("NaN"), st("1e-20")], [st("-Infinity"), st(".5")]]),
    "floats-oid": copy([700, 701, 26], [[num(1.5), num(-0.0), num(4000000000)]]),
    "json": copy([114, 3802], [[obj([("a", num(1))], '{"a":1}'), arr([num(1), st("x"), NULL])],
                               [st("text"), obj([("b", TRUE)], '{"b":true}')]]),
    "uuid": copy([2950], [[st("00010203-0405-0607-0809-0a0b0c0d0e0f")], [st("{A0EEBC99-9C0B4EF8BB6D6BB9BD380A11}")]]),
    "dates": copy([1082, 1114, 1184], [[date(1.7e12), date(1.7e12), date(-1e13)],
                                       [st("2024-02-29"), st("2024-02-29 13:45:00.123456"), st("2024-02-29T13:45:00+05:30")],
                                       [st("infinity"), st("-infinity"), st("0044-03-15 BC")]]),
    "times": copy([1083, 1266], [[st("13:45:06.5"), st("13:45:06+02")], [st("24:00:00"), st("00:00-14:59")]]),
    "interval": copy([1186], [[obj([("months", num(14)), ("days", num(3)), ("microseconds", big("1000001"))])]]),
    "arrays": copy([1007, 1009], [[arr([arr([num(1), num(2)]), arr([NULL, num(4)])]), arr([st("a"), NULL])],
                                  [arr([]), arr([st("b")])]]),
    "ranges": copy([3904, 3906], [[obj([("lower", num(1)), ("upper", num(10))]), obj([("empty", TRUE)])],
                                  [obj([("lower", NULL), ("upper", st("2.5")), ("upperInc", TRUE)]), NULL]]),
    "user-types": copy([900000, 900001, 900008, 900010],
                       [[st("happy"), num(5), obj([("lower", st("1")), ("upper", st("2"))]), st("CaseLess")]]),
    "user-arrays": copy([900006, 900007, 900009],
                        [[arr([num(1), NULL]), arr([st("sad"), st("ok")]), arr([num(3)])]]),
    "ragged-array-error": copy([1007], [[arr([arr([num(1)]), arr([])])]]),
    "mismatch-error": copy([23], [[st("not a number")]]),
    "text-params": copy([23, 1700], [[txt("5"), txt("1.25")]]),
    # numerics beyond PostgreSQL's limits (refused since ed30897; '1e2000000000' used to
    # allocate gigabytes, exponents past the i16 weight used to wrap)
    **{f"numeric-limit-{i}": copy([1700], [[st(x)]]) for i, x in enumerate(
        ["1e2000000000", "1e2147483647", "1e-2147483648", "1e-100000", "9e131071", "1e-16383"])},
}
for name, data in COPY.items():
    write("copy_encode", name, data)

# ---------------------------------------------------------------- params
# copy_encode's layout with one row and no row count: parameters go through encode::encode,
# for any type (not only those copyFrom supports).
PARAMS = {
    "ints": params([23, 20, 21, 26], [num(1), big("-9223372036854775808"), st("42"), num(4294967295)]),
    "int-errors": params([23, 21], [num(1.5), num(2 ** 31)]),
    "floats-numeric": params([700, 701, 1700, 1700], [num(1e-7), num(float("inf")), st("-1.5e3"), big("123456789012345678901234567890")]),
    "text-bytea": params([25, 17, 17, 1043], [st("héllo"), byt(b"\0\xff"), st("\\x00ff"), TRUE]),
    "json": params([114, 3802], [obj([("a", arr([num(1), NULL]))], '{"a":[1,null]}'), arr([st("x"), obj([], None), obj([], None, ("NaN", ".a[1]"))])]),
    "uuid": params([2950, 2950], [st("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), st("not-a-uuid")]),
    "dates": params([1082, 1114, 1184, 1083], [date(1.7e12), date(8.64e15), date(-8.64e15), st("13:45")]),
    "interval": params([1186, 1186], [obj([("years", num(1)), ("months", num(2)), ("days", num(3)), ("hours", num(4)), ("milliseconds", num(5.5))]), st("1 day")]),
    "arrays": params([1007, 1009, 1231, 3807], [arr([arr([num(1)]), arr([NULL])]), arr([st('a"b'), st("c,d"), NULL]), arr([st("1.5")]), arr([obj([], '{}')])]),
    "ranges": params([3904, 3906, 3910, 3912], [obj([("lower", num(1)), ("upper", num(5)), ("upperInc", TRUE)]), st("[1.5,2)"), obj([("empty", TRUE)]), obj([("lower", date(0)), ("upper", NULL)])]),
    "geometry-net": params([600, 869, 829, 1560], [obj([("x", num(1)), ("y", num(2))], '{"x":1,"y":2}'), st("10.0.0.1/8"), st("08:00:2b:01:02:03"), st("101")]),
    "user-types": params([900000, 900001, 900003, 900004], [st("happy"), num(5), obj([("a", num(1)), ("b", st("x"))], '{"a":1,"b":"x"}'), st("(1,x)")]),
    "text-tag": params([23, 1184], [txt("5"), txt("2024-02-29 13:45:00+05:30")]),
}
for name, data in PARAMS.items():
    write("params", name, data)

print("seeds written:", len(CONNSTRINGS), "connstring,", len(RESPONSES), "response,",
      len(DECODE), "decode,", len(COPY), "copy_encode,", len(PARAMS), "params")
