"""asyncpg for one workload of the suite (benchmark/suite.mjs); prints {ms, cpuMs, serverCpuMs, rssMiB, check}.

Restates the constants of benchmark/workloads.mjs; the suite checks the checksum printed here
against the one it computes, so a drift fails the run instead of flattering it.
"""
import asyncio, datetime, gc, json, os, resource, sys, time

W1_N, W2_N, W2_POOL, W2_CALLERS = 20_000, 100_000, 8, 64
W3_ROWS, W4_ROWS, W5_N, W6_ROWS = 200_000, 200_000, 5_000, 1_000_000
EPOCH = 1704067200
W3_SQL = f"""SELECT g AS i4, g::int8 * 3 AS i8, g / 7.0::float8 AS f8, 'row ' || g AS t,
  g % 2 = 0 AS b, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS ts,
  (g * 1.25)::numeric(12,2) AS n, jsonb_build_object('k', g, 's', 'x') AS j, md5(g::text)::uuid AS u
  FROM generate_series(1, {W3_ROWS}) g"""
W4_CHECK = f"""SELECT (count(*) + sum(id) + sum(length(name)) + sum((payload->>'k')::int8)
  + sum(floor(score)) + sum(extract(epoch FROM created)::int8 - {EPOCH}))::int8 AS c FROM bench_w4"""
W5_SQL = "INSERT INTO bench_w5 (a, b) VALUES ($1, $2) RETURNING id"
W6_QUERY = f"SELECT g, 'row ' || g, g * 1.5 FROM generate_series(1, {W6_ROWS}) g"


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def server_cpu(port):
    """As benchmark/server-cpu.mjs: a function returning the on-CPU ms of the postmaster on
    `port` and its children, or None when they cannot be read."""
    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return None

    pids = [p for p in os.listdir("/proc") if p.isdigit()] if os.path.isdir("/proc") else []
    flag = b"\0-p\0" + str(port).encode() + b"\0"
    master = next((p for p in pids if (read(f"/proc/{p}/comm") or b"").strip() == b"postgres"
                   and flag in b"\0" + (read(f"/proc/{p}/cmdline") or b"")), None)
    if master is None:
        return lambda: None

    def total():
        ns = 0
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            stat = read(f"/proc/{p}/stat")
            if stat is None:
                continue
            ppid = stat[stat.rindex(b")") + 2:].split(b" ")[1].decode()
            if p != master and ppid != master:
                continue
            ns += int((read(f"/proc/{p}/schedstat") or b"0").split(b" ")[0])
        return ns / 1e6
    return total


async def main(w):
    import asyncpg
    c = json.loads(os.environ["BENCH_CONN"])
    kw = dict(host=c["host"], port=c["port"], user=c["user"], password=c["password"], database=c["database"])
    # W1 and W2 through a pool (pool.fetchval acquires and releases per call), as a service runs them.
    size = {"W1": 1, "W2": W2_POOL}.get(w)
    con = await (asyncpg.create_pool(min_size=size, max_size=size, **kw) if size else asyncpg.connect(**kw))
    if w == "W4":
        await con.execute("DROP TABLE IF EXISTS bench_w4")
        await con.execute("CREATE TABLE bench_w4 (id int4, name text, score float8, created timestamptz, payload jsonb)")
        base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
        rows = [(i, f"name {i}", i / 4, base + datetime.timedelta(seconds=i), json.dumps({"k": i})) for i in range(W4_ROWS)]
    if w == "W5":
        await con.execute("DROP TABLE IF EXISTS bench_w5")
        await con.execute("CREATE TABLE bench_w5 (id serial PRIMARY KEY, a int4 NOT NULL, b text NOT NULL)")
        sets = [(i, f"x{i}") for i in range(W5_N)]
    if w == "W3":
        await con.fetch(W3_SQL)

    async def run():
        if w == "W1":
            s = 0
            for i in range(W1_N):
                s += await con.fetchval("SELECT $1::int4 AS x", i)
            return s
        if w == "W2":
            state = {"next": 0, "sum": 0}

            async def caller():
                while state["next"] < W2_N:
                    i = state["next"]
                    state["next"] += 1
                    r = await con.fetchrow("SELECT $1::int4 AS a, $2::text AS b", i, f"t{i}")
                    state["sum"] += r["a"] + len(r["b"])

            await asyncio.gather(*(caller() for _ in range(W2_CALLERS)))
            return state["sum"]
        if w == "W3":
            s = 0
            for r in await con.fetch(W3_SQL):
                s += (r["i4"] + r["i8"] + int(r["f8"] // 1) + len(r["t"]) + (1 if r["b"] else 0)
                      + int(r["ts"].timestamp()) - EPOCH + round(r["n"] * 100) + json.loads(r["j"])["k"]
                      + int(str(r["u"])[:8], 16) % 1000)
            return s
        if w == "W4":
            await con.copy_records_to_table("bench_w4", records=rows)
            return None
        if w == "W5":
            async with con.transaction():
                return sum(r["id"] for r in await con.fetchmany(W5_SQL, sets))
        if w == "W6":
            n = 0

            async def out(chunk):
                nonlocal n
                n += len(chunk)

            await con.copy_from_query(W6_QUERY, output=out)
            return n

    gc.collect()  # as the Node children do before reading the base RSS
    base_rss = rss()
    server = server_cpu(c["port"])
    server0 = server()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    check = await run()
    ms = (time.perf_counter() - t0) * 1000
    cpu_ms = (time.process_time() - cpu0) * 1000
    server1 = server()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if w == "W4":
        check = await con.fetchval(W4_CHECK)
    if w == "W5" and await con.fetchval("SELECT count(*) FROM bench_w5") != W5_N:
        check = -1
    await con.close()
    server_ms = None if server0 is None else server1 - server0
    print(json.dumps({"ms": ms, "cpuMs": cpu_ms, "serverCpuMs": server_ms, "rssMiB": max(0, peak - base_rss) / 2**20, "peakMiB": peak / 2**20, "check": check}))


asyncio.run(main(sys.argv[1]))
