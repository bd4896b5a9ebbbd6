// The CPU time of the PostgreSQL server under test, for the suite's "server CPU" column: the
// on-CPU nanoseconds (/proc/<pid>/schedstat) of the postmaster listening on `port` and of all
// its children (the backends of this run, the WAL writer, the checkpointer...). Read before and
// after the timed part, it says how much of a workload's wall time the server itself needed:
// a driver cannot finish before the server has done its share. Works where the server runs on
// this machine under Linux (Node and Bun); elsewhere `serverCpu` returns null.
// benchmark/asyncpg_child.py reads the same files the same way.
import { readdirSync, readFileSync } from 'node:fs'

const read = (path) => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** A function returning the server's CPU time so far in ms, or null when it cannot be read. */
export function serverCpu(port) {
  let pids
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  } catch {
    return () => null
  }
  const flag = new RegExp(`(^|\\x00)-p\\x00${port}(\\x00|$)`)
  const postmaster = pids.find((p) => read(`/proc/${p}/comm`)?.trim() === 'postgres' && flag.test(read(`/proc/${p}/cmdline`) ?? ''))
  if (postmaster === undefined) return () => null
  return () => {
    let ns = 0
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue
      const stat = read(`/proc/${p}/stat`)
      // Field 4, after the parenthesised command name, is the parent's pid.
      const ppid = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1]
      if (p !== postmaster && ppid !== postmaster) continue
      ns += Number(read(`/proc/${p}/schedstat`)?.split(' ')[0] ?? 0)
    }
    return ns / 1e6
  }
}
