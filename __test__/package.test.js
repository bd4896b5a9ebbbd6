'use strict'
// The release layout, checked end to end: the main package (no binary) and the platform package
// `ferropg-<platform>` (the binary), prepared by `napi pre-publish` as a release does it, packed
// with `npm pack`, installed into an empty project with `npm install --offline` (an empty npm
// cache: nothing may come from the network) on a PATH that holds only node, npm, sh and tripwires
// named after the build tools (cargo, rustc, cc, gcc, make, ...), then used against the real
// PostgreSQL from CommonJS, ESM and ferropg/pg. A second project without the platform package
// shows the error a user then gets.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { platformName, bindingError, TRIPLES } = require('../lib/platform')

const root = path.join(__dirname, '..')
const pkg = require('../package.json')
const platform = platformName()
const triple = Object.keys(TRIPLES).find((t) => TRIPLES[t] === platform)
const BUILD_TOOLS = ['cargo', 'rustc', 'rustup', 'cc', 'c++', 'gcc', 'g++', 'clang', 'make', 'node-gyp']
const LIMIT = { timeout: 120_000 } // every child process is bounded

/** A directory holding node, npm, sh, and a failing tripwire for each build tool. */
function toolFreeBin(dir) {
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  fs.symlinkSync(process.execPath, path.join(bin, 'node'))
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh')) // npm runs scripts with sh: one that calls a tool hits a tripwire
  const npmCli = fs.realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())
  const npmJs = path.join(path.dirname(npmCli), 'npm-cli.js')
  fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${fs.existsSync(npmJs) ? npmJs : npmCli}" "$@"\n`, { mode: 0o755 })
  for (const tool of BUILD_TOOLS) {
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${dir}/tripwire.log"\nexit 1\n`, { mode: 0o755 })
  }
  return bin
}

/** The directories of the main package's runtime dependencies, transitively, from node_modules. */
function runtimeDependencies() {
  const found = new Map()
  const locate = (name, from) => {
    for (let d = from; ; d = path.dirname(d)) {
      const p = path.join(d, 'node_modules', name)
      if (fs.existsSync(path.join(p, 'package.json'))) return p
      if (d === path.dirname(d)) throw new Error(`${name} (needed by ${from}) is not installed`)
    }
  }
  const walk = (dir) => {
    for (const name of Object.keys(require(path.join(dir, 'package.json')).dependencies ?? {})) {
      const at = locate(name, dir)
      const version = require(path.join(at, 'package.json')).version
      if (found.has(name)) {
        assert.equal(found.get(name).version, version, `one version of ${name} in the closure`)
        continue
      }
      found.set(name, { at, version })
      walk(at)
    }
  }
  walk(root)
  return [...found.values()].map((d) => d.at)
}

/** `npm pack` of each directory (scripts off: a dependency's own `prepare` is not ours to run). */
function pack(dirs, dest) {
  return dirs.map((d) => {
    const out = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dest, d], { cwd: dest, encoding: 'utf8', ...LIMIT })
    return path.join(dest, out.trim().split('\n').pop())
  })
}

test('the release packages install offline without build tools and run queries', () => {
  assert.ok(triple, `${platform} is one of the napi targets`)
  assert.ok(pkg.napi.targets.includes(triple), `${triple} is in package.json napi.targets`)
  const addon = path.join(root, `${pkg.napi.binaryName}.${platform}.node`)
  assert.ok(fs.existsSync(addon), `${addon} is built (npm run build)`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-pack-'))
  try {
    // 1. Stage the release as the publish job does: the packed main package, its npm/<platform>
    // directory holding the binary (`napi artifacts`), then `napi pre-publish`, which writes the
    // optionalDependencies. napi.targets is cut to this platform: the only binary built here.
    const [main0] = pack([root], dir)
    execFileSync('tar', ['xzf', main0, '-C', dir], LIMIT)
    const stage = path.join(dir, 'package')
    const npmDir = path.join(stage, 'npm', platform)
    fs.cpSync(path.join(root, 'npm', platform), npmDir, { recursive: true })
    fs.copyFileSync(addon, path.join(npmDir, path.basename(addon)))
    const staged = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'))
    assert.equal(staged.optionalDependencies, undefined, 'the committed package.json names no platform package')
    staged.napi.targets = [triple]
    fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(staged, null, 2))
    // napi pre-publish works inside a git repository with a commit (it reads the head commit).
    const git = (...args) => execFileSync('git', ['-c', 'user.name=ferropg test', '-c', 'user.email=test@ferropg.invalid', ...args], { cwd: stage, stdio: 'pipe', ...LIMIT })
    git('init', '-q')
    git('add', '.')
    git('commit', '-q', '-m', 'release')
    const napiCli = path.join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
    execFileSync(process.execPath, [napiCli, 'pre-publish', '-t', 'npm', '--skip-optional-publish'], { cwd: stage, stdio: 'pipe', ...LIMIT })
    const released = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'))
    assert.deepEqual(released.optionalDependencies, { [`ferropg-${platform}`]: pkg.version })
    for (const p of [released, JSON.parse(fs.readFileSync(path.join(npmDir, 'package.json'), 'utf8'))]) {
      for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(p.scripts?.[s], undefined, `${p.name} has no ${s} script`)
    }
    const tarballs = path.join(dir, 'tarballs')
    fs.mkdirSync(tarballs)
    const [mainTgz, platformTgz, ...deps] = pack([stage, npmDir, ...runtimeDependencies()], tarballs)
    const list = (tgz) => execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' })
    assert.match(list(mainTgz), /package\/index\.d\.ts/)
    assert.doesNotMatch(list(mainTgz), /\.node\n/, 'the main package carries no binary')
    assert.doesNotMatch(list(mainTgz), /package\/(src|npm)\//)
    assert.match(list(platformTgz), new RegExp(`package/ferropg\\.${platform}\\.node`))

    // 2. Install into empty projects: offline, an empty cache, no build tool on PATH.
    const bin = toolFreeBin(dir)
    const env = { PATH: bin, HOME: dir, DATABASE_URL: process.env.DATABASE_URL, npm_config_update_notifier: 'false' }
    const install = (name, tgzs, extra = []) => {
      const app = path.join(dir, name)
      fs.mkdirSync(app)
      fs.writeFileSync(path.join(app, 'package.json'), `{"name":"${name}","version":"1.0.0","private":true}`)
      execFileSync('npm', ['install', '--offline', '--cache', path.join(dir, `cache-${name}`), '--no-audit', '--no-fund', ...extra, ...tgzs], { cwd: app, env, stdio: 'pipe', ...LIMIT })
      return app
    }
    const node = (app, args) => execFileSync('node', args, { cwd: app, env, encoding: 'utf8', ...LIMIT }).trim()

    const app = install('app', [mainTgz, platformTgz, ...deps])
    const lock = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', '.package-lock.json'), 'utf8'))
    const withScripts = Object.keys(lock.packages).filter((k) => lock.packages[k].hasInstallScript)
    assert.deepEqual(withScripts, [], 'no installed package has an install script')
    assert.equal(fs.existsSync(path.join(dir, 'tripwire.log')), false, 'no build tool was called')
    assert.deepEqual(fs.readdirSync(path.join(app, 'node_modules', 'ferropg')).filter((f) => f.endsWith('.node')), [])
    assert.equal(node(app, ['-p', `require.resolve('ferropg-${platform}')`]), path.join(app, 'node_modules', `ferropg-${platform}`, path.basename(addon)))

    const cjs = node(app, ['-e', `
      const { Pool } = require('ferropg')
      const p = new Pool(process.env.DATABASE_URL)
      p.query('SELECT $1::int4 + 1 AS n, $2::int8 AS big', [41, 7n]).then(r => { console.log(r.rows[0].n, typeof r.rows[0].big); return p.close() })`])
    assert.equal(cjs, '42 bigint')
    const pgApi = node(app, ['-e', `
      const pg = require('ferropg/pg')
      const p = new pg.Pool({ connectionString: process.env.DATABASE_URL })
      p.query('SELECT $1::int8 + 1 AS n', [41]).then(r => { console.log(typeof r.rows[0].n, r.rows[0].n); return p.end() })`])
    assert.equal(pgApi, 'string 42')
    fs.writeFileSync(path.join(app, 'm.mjs'), `
      import { Client, DatabaseError } from 'ferropg'
      const c = await Client.connect(process.env.DATABASE_URL)
      const e = await c.query('SELECT 1/0').catch((x) => x)
      console.log(e instanceof DatabaseError, e.code)
      await c.close()`)
    assert.equal(node(app, ['m.mjs']), 'true 22012')

    // 3. Without the platform package (--omit=optional), loading names the package and the fix.
    const bare = install('bare', [mainTgz, ...deps], ['--omit=optional'])
    assert.equal(fs.existsSync(path.join(bare, 'node_modules', `ferropg-${platform}`)), false)
    const failure = JSON.parse(node(bare, ['-e', `
      try { require('ferropg') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, platform: e.platform })) }`]))
    assert.equal(failure.code, 'ERR_ADDON_NOT_FOUND')
    assert.equal(failure.platform, platform)
    assert.match(failure.message, new RegExp(`ferropg-${platform}@${pkg.version.replace(/\./g, '\\.')} is missing`))
    assert.match(failure.message, /--omit=optional/)
    assert.equal(fs.existsSync(path.join(dir, 'tripwire.log')), false, 'no build tool was called')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a platform without a binary package gets an error naming the supported ones', () => {
  const released = { ...pkg, optionalDependencies: { 'ferropg-linux-x64-gnu': pkg.version, 'ferropg-darwin-arm64': pkg.version } }
  const cause = new Error('Cannot find native binding')
  const e = bindingError(cause, released, 'freebsd-x64')
  assert.equal(e.code, 'ERR_UNSUPPORTED_PLATFORM')
  assert.equal(e.cause, cause)
  assert.match(e.message, /no prebuilt binary for freebsd-x64/)
  assert.match(e.message, /Supported platforms: linux-x64-gnu, darwin-arm64\./)
  assert.match(bindingError(cause, released, 'win32-x64-msvc').message, /Windows support is not there yet/)
  // A checkout without a build says how to build, and lists the configured targets.
  const checkout = bindingError(cause, pkg, 'linux-x64-gnu')
  assert.equal(checkout.code, 'ERR_ADDON_NOT_FOUND')
  assert.match(checkout.message, /npm run build/)
  assert.match(checkout.message, /linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, linux-arm64-musl, darwin-x64, darwin-arm64, win32-x64-msvc/)
})

test('the release workflow builds and tests exactly the napi targets, each with its npm directory', () => {
  const workflow = fs.readFileSync(path.join(root, '.github', 'workflows', 'release.yml'), 'utf8')
  const built = [...workflow.matchAll(/^\s+- target: (\S+)$/gm)].map((m) => m[1])
  const tested = [...workflow.matchAll(/^\s+- \{ target: ([^,\s]+),/gm)].map((m) => m[1])
  assert.deepEqual([...built].sort(), [...pkg.napi.targets].sort(), 'the build matrix')
  assert.deepEqual([...tested].sort(), [...pkg.napi.targets].sort(), 'the test matrix')
  for (const t of pkg.napi.targets) {
    const npm = JSON.parse(fs.readFileSync(path.join(root, 'npm', TRIPLES[t], 'package.json'), 'utf8'))
    assert.equal(npm.name, `ferropg-${TRIPLES[t]}`)
    assert.equal(npm.version, pkg.version, `npm/${TRIPLES[t]} has the main package's version`)
    assert.equal(npm.main, `ferropg.${TRIPLES[t]}.node`)
  }
})
