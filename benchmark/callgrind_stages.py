#!/usr/bin/env python3
"""Splits a callgrind profile of N queries into the stages of a query, by function name
(self cost, instructions per query). Used for docs/performance.md's instruction breakdown:

    python3 benchmark/callgrind_stages.py N profile.out [profile2.out ...]

Get a profile of N steady-state queries as `benchmark/instructions.mjs` counts them (the
callgrind output it writes to its temporary directory), or by hand with valgrind
--instr-atstart=no and callgrind_control. JIT-compiled JavaScript has no symbols under
callgrind: it shows as one stage ("JavaScript (JIT code)").
"""
import collections
import re
import subprocess
import sys

STAGES = [
    ('V8: optimizing compiler', r'v8::internal::compiler::|v8::internal::maglev::|Compile|Parser'),
    ('V8: garbage collection', r'Scaveng|heap::base::|v8::internal::Heap|IterateObjectCache|MarkCompact|Sweeper|RootScavenge'),
    ('parameter encoding (Rust)', r'ferropg::core::types::encode|exec::encode_params|js::params'),
    ('napi-rs argument conversion, borrow scopes', r'napi::bindgen_runtime|_c_callback|napi::bindgen_prelude'),
    ('submission: pool lease, borrow (Rust, deadpool)', r'ferropg::js::pool|ferropg::core::lease|ferropg::core::pool|deadpool|spawn_eager|ferropg::core::retry'),
    ('statement queue (submission worker, progress)', r'ferropg::core::worker|ferropg::core::progress|futures_unordered|tokio::sync::mpsc|ferropg::core::conn::Conn::submit|ferropg::core::session|stmt_cache|sql_text'),
    ('request encoding, tokio-postgres request/response channels', r'exec::bind_execute|tokio_postgres::client|futures_channel|bytes::|tokio_postgres::codec'),
    ('protocol task, socket glue (loop driver)', r'connect::attempt|loop_driver|uv_stream|tokio_util::codec|framed|core::events::drive|core::driver'),
    ('response parsing, value decoding, result buffer', r'postgres_protocol|ferropg::core::response|ferropg::core::result|ferropg::core::types|ferropg::core::exec|byteorder|std::io::'),
    ('completion delivery (inbox, reply, napi_make_callback)', r'ferropg::js::completions|ferropg::core::reply|napi_make_callback|InternalMakeCallback|InternalCallbackScope'),
    ('executor and wake-ups (Rust)', r'ferropg::js::local|Waker|waker|wake|tokio::runtime|tokio::task'),
    ('allocator (malloc/free)', r'malloc|_int_free|free\b|cfree|__rust_alloc|__rust_dealloc|__rdl_|unlink_chunk|tcache|finish_grow|grow_one|RawVec'),
    ('memcpy, memset', r'memmove|memcpy|memset'),
    ('V8: promises, property access, objects (builtins, runtime)', r'Builtins_|v8::internal::|v8::'),
    ('node and napi C++ (buffers, strings, callbacks)', r'node::|napi_'),
    ('libuv, syscall wrappers', r'uv_|uv__|epoll|__send|recv|read|write|syscall|clock_gettime|__tls_get_addr'),
]


def load(path):
    out = subprocess.run(['callgrind_annotate', '--inclusive=no', '--threshold=100', path],
                         capture_output=True, text=True, check=True).stdout
    costs = collections.Counter()
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+) \([^)]*\)\s+(.*)$', line)
        if m and 'PROGRAM TOTALS' not in m.group(2):
            costs[m.group(2)] += int(m.group(1).replace(',', ''))
    return costs


def stage(name):
    if re.search(r'\?\?\?:0x[0-9a-f]+ \[\?\?\?\]', name):
        return 'JavaScript (JIT code)'
    for label, pattern in STAGES:
        if re.search(pattern, name):
            return label
    return 'other'


def main():
    n = float(sys.argv[1])
    tables = []
    for path in sys.argv[2:]:
        t = collections.Counter()
        for name, cost in load(path).items():
            t[stage(name)] += cost / n
        tables.append(t)
    labels = sorted(set().union(*tables), key=lambda k: -tables[0][k])
    print('| stage | ' + ' | '.join(sys.argv[2:]) + ' |')
    print('|---|' + '---|' * len(tables))
    for label in labels:
        print(f'| {label} | ' + ' | '.join(f'{t[label]:,.0f}' for t in tables) + ' |')
    print('| **total** | ' + ' | '.join(f'**{sum(t.values()):,.0f}**' for t in tables) + ' |')


if __name__ == '__main__':
    main()
