'use strict'
// The platform package `ferropg-<platform>` (npm/<platform> with the addon built here), packed:
// what a project installs beside the main package, which carries no binary (docs/platforms.md).
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformName } = require('../lib/platform')

const root = path.join(__dirname, '..')

/** Packs it into `dest`; returns `{ name, tgz }`. */
function packPlatformPackage(dest) {
  const platform = platformName()
  const { binaryName } = require('../package.json').napi
  const addon = path.join(root, `${binaryName}.${platform}.node`)
  if (!fs.existsSync(addon)) throw new Error(`${addon} is not built (npm run build)`)
  const dir = path.join(dest, `platform-${platform}`)
  fs.cpSync(path.join(root, 'npm', platform), dir, { recursive: true })
  fs.copyFileSync(addon, path.join(dir, path.basename(addon)))
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' })
  const name = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name
  return { name, tgz: path.join(dest, out.trim().split('\n').pop()) }
}

module.exports = { packPlatformPackage }
