// The shared benchmark harness: every driver x scenario runs in a fresh process, interleaved
// across REPS repetitions (env REPS, default 5); each run reports its time and peak RSS growth;
// the table shows medians and the ratio pg time / driver time (higher is better).
import { spawnSync } from 'node:child_process'

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]

/**
 * Call from a benchmark module with its own URL (import.meta.url as a path), its drivers
 * (name -> async () => driver) and scenarios (name -> async (driver) => ms or null to skip).
 * `label(scenario, driver, ms)` may add a column (e.g. throughput).
 */
export async function run({ me, drivers, scenarios, title, extra }) {
  const [, , mode, driverName, scenarioName] = process.argv
  if (mode === '--child') {
    const d = await drivers[driverName]()
    const base = process.memoryUsage().rss
    let peak = base
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10)
    const ms = await scenarios[scenarioName](d)
    clearInterval(timer)
    await d.close()
    process.stdout.write(JSON.stringify({ ms, rssMiB: (peak - base) / 2 ** 20 }))
    process.exit(0)
  }
  const reps = Number(process.env.REPS || 5)
  const results = {}
  for (let rep = 0; rep < reps; rep++) {
    for (const scenario of Object.keys(scenarios)) {
      for (const driver of Object.keys(drivers)) {
        const r = spawnSync(process.execPath, [me, '--child', driver, scenario], { encoding: 'utf8' })
        if (r.status !== 0) throw new Error(`${driver}/${scenario} failed:\n${r.stderr}`)
        const out = JSON.parse(r.stdout)
        if (out.ms !== null) ((results[scenario] ??= {})[driver] ??= []).push(out)
      }
    }
  }
  console.log(`\n${title}: Node ${process.version}, ${reps} repetitions, medians; ratio = pg time / driver time (higher is better)\n`)
  console.log(`| scenario | driver | median ms | vs pg | peak RSS growth MiB${extra ? ` | ${extra.header}` : ''} |`)
  console.log(`|---|---|---|---|---${extra ? '|---' : ''}|`)
  for (const [scenario, byDriver] of Object.entries(results)) {
    const base = median(byDriver.pg.map((r) => r.ms))
    for (const [driver, runs] of Object.entries(byDriver)) {
      const m = median(runs.map((r) => r.ms))
      const rss = median(runs.map((r) => r.rssMiB))
      console.log(`| ${scenario} | ${driver} | ${m.toFixed(1)} | ${(base / m).toFixed(2)}x | ${rss.toFixed(0)}${extra ? ` | ${extra.cell(scenario, m)}` : ''} |`)
    }
  }
}
