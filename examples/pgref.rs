//! The pure-Rust reference of the benchmark suite (benchmark/suite.mjs): the same six workloads
//! with plain tokio-postgres on a current-thread runtime, i.e. what the Rust core can do with no
//! JavaScript at all. Restates the constants of benchmark/workloads.mjs; the suite checks the
//! checksum printed here.
//!
//! `cargo build --release --no-default-features --example pgref`, then
//! `BENCH_CONN='{"host":...,"port":...,"user":...,"password":...,"database":...}' pgref W1`.
use std::error::Error;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{future, pin_mut, StreamExt};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, NoTls};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

const W1_N: i32 = 20_000;
const W2_N: i32 = 100_000;
const W2_POOL: usize = 8;
const W2_CALLERS: usize = 64;
const W3_ROWS: i64 = 200_000;
const W4_ROWS: i32 = 200_000;
const W5_N: i32 = 5_000;
const W6_ROWS: i64 = 1_000_000;
const EPOCH: i64 = 1_704_067_200;

/// Wall time and this process's CPU time (user + system, every thread) over a timed part.
struct Measured {
    wall: Duration,
    cpu: Duration,
}

/// Starts the two clocks `Measured` reports.
struct Clock {
    wall: Instant,
    cpu: Duration,
}

impl Clock {
    fn start() -> Self {
        Clock {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }
    fn stop(&self) -> Measured {
        Measured {
            wall: self.wall.elapsed(),
            cpu: process_cpu().saturating_sub(self.cpu),
        }
    }
}

/// User + system CPU time of the whole process so far (getrusage).
fn process_cpu() -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    // SAFETY: `rusage` is plain old data, so all-zero bytes are a valid value; getrusage only
    // writes into the struct we pass, which lives for the whole call.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF is a valid `who`, and `&mut ru` is a valid, exclusive pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A column's binary value as it arrived, for the types the reference decodes by hand.
struct Raw<'a>(&'a [u8]);
impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Res<Self> {
        Ok(Raw(raw))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// numeric (binary: ndigits, weight, sign, dscale, base-10000 digits) times 100, rounded.
fn numeric_cents(raw: &[u8]) -> i64 {
    let word = |i: usize| i16::from_be_bytes([raw[2 * i], raw[2 * i + 1]]);
    let (n, weight, sign) = (word(0) as usize, word(1) as i32, word(2));
    let mut v = 0f64;
    for k in 0..n {
        v += word(4 + k) as f64 * 10000f64.powi(weight - k as i32);
    }
    let cents = (v * 100.0).round() as i64;
    if sign == 0x4000 {
        -cents
    } else {
        cents
    }
}

async fn connect() -> Res<Client> {
    let c: serde_json::Value = serde_json::from_str(&std::env::var("BENCH_CONN")?)?;
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
    let mut cfg = tokio_postgres::Config::new();
    let host = s("host");
    if host.starts_with('/') {
        cfg.host_path(&host);
    } else {
        cfg.host(&host);
    }
    cfg.port(c["port"].as_u64().unwrap_or(5432) as u16)
        .user(s("user"))
        .password(s("password"))
        .dbname(s("database"));
    let (client, connection) = cfg.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

fn status(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn run(w: &str) -> Res<(Measured, i64)> {
    let c = connect().await?;
    match w {
        "W1" => {
            let st = c.prepare("SELECT $1::int4 AS x").await?;
            let t0 = Clock::start();
            let mut s = 0i64;
            for i in 0..W1_N {
                s += c.query_one(&st, &[&i]).await?.get::<_, i32>(0) as i64;
            }
            Ok((t0.stop(), s))
        }
        "W2" => {
            let mut pool = Vec::new();
            for _ in 0..W2_POOL {
                let cl = connect().await?;
                let st = cl.prepare("SELECT $1::int4 AS a, $2::text AS b").await?;
                pool.push((cl, st));
            }
            let next = std::cell::Cell::new(0);
            let t0 = Clock::start();
            let callers = (0..W2_CALLERS).map(|k| {
                let (cl, st) = &pool[k % W2_POOL];
                let next = &next;
                async move {
                    let mut s = 0i64;
                    while next.get() < W2_N {
                        let i = next.get();
                        next.set(i + 1);
                        let b = format!("t{i}");
                        let r = cl.query_one(st, &[&i, &b]).await?;
                        s += r.get::<_, i32>(0) as i64 + r.get::<_, &str>(1).len() as i64;
                    }
                    Ok::<_, tokio_postgres::Error>(s)
                }
            });
            let sums = future::try_join_all(callers).await?;
            Ok((t0.stop(), sums.iter().sum()))
        }
        "W3" => {
            let sql = format!(
                "SELECT g AS i4, g::int8 * 3 AS i8, g / 7.0::float8 AS f8, 'row ' || g AS t, \
                 g % 2 = 0 AS b, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS ts, \
                 (g * 1.25)::numeric(12,2) AS n, jsonb_build_object('k', g, 's', 'x') AS j, md5(g::text)::uuid AS u \
                 FROM generate_series(1, {W3_ROWS}) g"
            );
            let st = c.prepare(&sql).await?;
            c.query(&st, &[]).await?;
            let t0 = Clock::start();
            let mut s = 0i64;
            for r in c.query(&st, &[]).await? {
                let ts: SystemTime = r.get(5);
                let j: serde_json::Value = r.get(7);
                let u: Raw = r.get(8);
                s += r.get::<_, i32>(0) as i64
                    + r.get::<_, i64>(1)
                    + r.get::<_, f64>(2).floor() as i64
                    + r.get::<_, &str>(3).len() as i64
                    + r.get::<_, bool>(4) as i64
                    + ts.duration_since(UNIX_EPOCH)?.as_secs() as i64
                    - EPOCH
                    + numeric_cents(r.get::<_, Raw>(6).0)
                    + j["k"].as_i64().unwrap_or(0)
                    + (u32::from_be_bytes([u.0[0], u.0[1], u.0[2], u.0[3]]) % 1000) as i64;
            }
            Ok((t0.stop(), s))
        }
        "W4" => {
            c.batch_execute("DROP TABLE IF EXISTS bench_w4; CREATE TABLE bench_w4 (id int4, name text, score float8, created timestamptz, payload jsonb)").await?;
            let rows: Vec<_> = (0..W4_ROWS)
                .map(|i| {
                    let at = UNIX_EPOCH + Duration::from_secs((EPOCH + i as i64) as u64);
                    (
                        i,
                        format!("name {i}"),
                        i as f64 / 4.0,
                        at,
                        serde_json::json!({ "k": i }),
                    )
                })
                .collect();
            let t0 = Clock::start();
            let sink = c
                .copy_in("COPY bench_w4 FROM STDIN (FORMAT binary)")
                .await?;
            let types = [
                Type::INT4,
                Type::TEXT,
                Type::FLOAT8,
                Type::TIMESTAMPTZ,
                Type::JSONB,
            ];
            let writer = BinaryCopyInWriter::new(sink, &types);
            pin_mut!(writer);
            for (i, n, s, t, p) in &rows {
                let row: [&(dyn ToSql + Sync); 5] = [i, n, s, t, p];
                writer.as_mut().write(&row).await?;
            }
            writer.finish().await?;
            let ms = t0.stop();
            let check_sql = format!("SELECT (count(*) + sum(id) + sum(length(name)) + sum((payload->>'k')::int8) + sum(floor(score)) + sum(extract(epoch FROM created)::int8 - {EPOCH}))::int8 FROM bench_w4");
            Ok((ms, c.query_one(check_sql.as_str(), &[]).await?.get(0)))
        }
        "W5" => {
            c.batch_execute("DROP TABLE IF EXISTS bench_w5; CREATE TABLE bench_w5 (id serial PRIMARY KEY, a int4 NOT NULL, b text NOT NULL)").await?;
            let st = c
                .prepare("INSERT INTO bench_w5 (a, b) VALUES ($1, $2) RETURNING id")
                .await?;
            let sets: Vec<(i32, String)> = (0..W5_N).map(|i| (i, format!("x{i}"))).collect();
            let params: Vec<[&(dyn ToSql + Sync); 2]> =
                sets.iter().map(|(a, b)| [a as _, b as _]).collect();
            let t0 = Clock::start();
            c.batch_execute("BEGIN").await?;
            let rows = future::try_join_all(params.iter().map(|p| c.query_one(&st, p))).await?;
            c.batch_execute("COMMIT").await?;
            let ms = t0.stop();
            let n: i64 = c
                .query_one("SELECT count(*) FROM bench_w5", &[])
                .await?
                .get(0);
            let sum: i64 = rows.iter().map(|r| r.get::<_, i32>(0) as i64).sum();
            Ok((ms, if n == W5_N as i64 { sum } else { -1 }))
        }
        "W6" => {
            let sql = format!("COPY (SELECT g, 'row ' || g, g * 1.5 FROM generate_series(1, {W6_ROWS}) g) TO STDOUT");
            let t0 = Clock::start();
            let stream = c.copy_out(sql.as_str()).await?;
            pin_mut!(stream);
            let mut n = 0i64;
            while let Some(chunk) = stream.next().await {
                n += chunk?.len() as i64;
            }
            Ok((t0.stop(), n))
        }
        _ => Err(format!("unknown workload {w}").into()),
    }
}

fn main() -> Res<()> {
    let w = std::env::args().nth(1).unwrap_or_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let base = status("VmRSS:");
    let (m, check) = rt.block_on(run(&w))?;
    let peak = status("VmHWM:");
    println!(
        "{{\"ms\":{},\"cpuMs\":{},\"rssMiB\":{},\"peakMiB\":{},\"check\":{}}}",
        m.wall.as_secs_f64() * 1000.0,
        m.cpu.as_secs_f64() * 1000.0,
        peak.saturating_sub(base) as f64 / 1024.0,
        peak as f64 / 1024.0,
        check
    );
    Ok(())
}
