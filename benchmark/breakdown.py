#!/usr/bin/env python3
"""Where one query's CPU goes: buckets the samples of a `perf record -g` of a Node process running
ferropg (started with `node --perf-basic-prof`, so JIT frames have names) into the stages of a
query, and prints each stage's share and its microseconds per query.

    perf record -F 4999 -g -o perf.data node --perf-basic-prof <script running N queries>
    perf script -i perf.data -F comm,tid,ip,sym,dso | python3 benchmark/breakdown.py <cpu us per query>

The first matching rule of the sample's leaf frame decides; kernel samples are charged to the
syscall their chain leads to (the nearest user-space frame). Samples are statistics: stages
below ~1% of the samples move between runs.
"""
import re
import sys

# (stage, pattern over "dso:symbol" of the leaf frame); first match wins.
RULES = [
    ("parameter encoding (JS)", r"lib/params\.js"),
    ("row building (JS reader)", r"lib/reader\.js|lib/rows\.js"),
    ("completion delivery (JS onReady, request)", r"lib/completions\.js"),
    ("query call (JS pool/client wrappers)", r"lib/pool\.js|lib/client\.js|lib/errors\.js"),
    ("caller's own code", r"JS:.*\.mjs"),
    ("promise resolution and microtasks (V8)", r"Promise|Microtask|Await|AsyncFunction|ResumeGenerator|Generator"),
    ("garbage collection (V8)", r"Heap|Scaveng|MarkCompact|Sweep|GC|Evacuat|Marking|Minor|Concurrent"),
    ("napi boundary (napi, V8 API, napi-rs glue)", r"napi|v8::String|v8::Object|v8::Value|v8::Function|v8::ArrayBuffer|Builtins_CallApiCallback|Builtins_CEntry|HandleScope|v8::Isolate|v8::Context|NativeBorrow|bindgen_runtime|v8::internal::Builtin_HandleApiCall|FunctionCallbackArguments|ApiNatives|InvokeFunctionCallback"),
    ("submission: pool lease and query task (Rust)", r"ferropg::core::lease|ferropg::core::pool|ferropg::js::pool|deadpool"),
    ("executor and wake-ups (Rust, loop driver)", r"ferropg::js::local|ferropg::js::uv_stream|ferropg::js::loop_driver|Waker|wake|futures_util|tokio::runtime|tokio::sync"),
    ("statement queue (Rust worker, progress)", r"ferropg::core::worker|ferropg::core::progress|ferropg::core::session|ferropg::core::stmt_cache|ferropg::core::cancel"),
    ("request encoding (Rust Bind/Execute/Sync, params)", r"ferropg::core::exec|ferropg::core::params|ferropg::core::types::encode|postgres_protocol::message::frontend|ferropg::core::conn|ferropg::js::params|ferropg::js::client"),
    ("response parsing (tokio-postgres codec, reader)", r"tokio_postgres|ferropg::core::response|postgres_protocol::message::backend|bytes::|tokio_util"),
    ("value decoding and result buffer (Rust)", r"ferropg::core::types|ferropg::core::result|ferropg::core::reply"),
    ("completion inbox (Rust)", r"ferropg::js::completions"),
    ("other ferropg Rust", r"ferropg"),
    ("allocator (malloc/free)", r"libc\.so.*:(malloc|free|cfree|_int_malloc|_int_free|realloc|_int_realloc|unlink_chunk|malloc_consolidate|__libc_malloc|__libc_free)"),
    ("libuv event loop", r"uv_|uv__"),
    ("memcpy and other libc", r"libc\.so"),
    ("V8 runtime, ICs and other builtins", r"node:|Builtins_|v8::|\[JIT\]|JS:"),
]
KERNEL_BY_SYSCALL = [
    ("socket writes (kernel, incl. waking the server)", r"send|write"),
    ("socket reads (kernel)", r"recv|read"),
    ("waiting for events: epoll (kernel)", r"epoll"),
    ("thread wake-ups: futex (kernel)", r"futex|pthread_cond|sem_|syscall"),
]


def parse(stream):
    """Yields the frames of each sample as [(symbol, dso), ...], leaf first."""
    frames = []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                yield frames
            frames = []
            continue
        if not line.startswith((" ", "\t")):
            if frames:
                yield frames
            frames = []
            continue
        m = re.match(r"\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)$", line)
        if m:
            frames.append((m.group(1), m.group(2)))
    if frames:
        yield frames


def stage(frames):
    sym, dso = frames[0]
    if "kernel" in dso or dso.startswith("[k"):
        for s, d in frames[1:]:
            if "kernel" in d:
                continue
            for name, pat in KERNEL_BY_SYSCALL:
                if re.search(pat, s):
                    return name
            break
        return "other kernel (scheduler, page faults)"
    key = f"{dso}:{sym}"
    for name, pat in RULES:
        if re.search(pat, key):
            return name
    return "unattributed"


def main():
    per_query = float(sys.argv[1]) if len(sys.argv) > 1 else None
    counts = {}
    total = 0
    for frames in parse(sys.stdin):
        st = stage(frames)
        counts[st] = counts.get(st, 0) + 1
        total += 1
    print(f"| stage | share of samples | us per query |\n|---|---|---|")
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        us = f"{per_query * n / total:.1f}" if per_query else ""
        print(f"| {name} | {100 * n / total:.1f}% | {us} |")
    print(f"\n{total} samples")


main()
