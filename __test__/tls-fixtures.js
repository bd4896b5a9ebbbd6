'use strict'
// Certificates made fresh for each run with the openssl command: a CA, a server certificate
// for `localhost` only, a client certificate for the role `certuser`, an expired server
// certificate, a second CA nobody trusts, and a revocation list from the CA that revokes the
// server certificate. Keys are EC P-256 (fast to make), certificates signed with SHA-256.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

function key(dir, name) {
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`])
  fs.chmodSync(path.join(dir, `${name}.key`), 0o600)
}

function ca(dir, name, cn) {
  key(dir, name)
  openssl(dir, [
    'req', '-x509', '-new', '-key', `${name}.key`, '-sha256', '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', `${name}.crt`,
  ])
}

function leaf(dir, name, { cn, san, usage, days = 2, issuer = 'ca' }) {
  key(dir, name)
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`])
  const ext = [`extendedKeyUsage=${usage}`, 'basicConstraints=CA:FALSE']
  if (san) ext.push(`subjectAltName=${san}`)
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext.join('\n') + '\n')
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial',
    '-sha256', '-days', String(days), '-extfile', `${name}.ext`, '-out', `${name}.crt`,
  ])
}

/** A revocation list signed by the CA that lists `name`'s certificate (openssl ca's database). */
function crl(dir, name) {
  fs.writeFileSync(path.join(dir, 'index.txt'), '')
  fs.writeFileSync(path.join(dir, 'crlnumber'), '01\n')
  fs.writeFileSync(path.join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = test', '[test]', `dir = ${dir}`, 'database = $dir/index.txt',
    'crlnumber = $dir/crlnumber', 'certificate = $dir/ca.crt', 'private_key = $dir/ca.key',
    'default_md = sha256', 'default_crl_days = 2', '',
  ].join('\n'))
  openssl(dir, ['ca', '-config', 'ca.cnf', '-revoke', `${name}.crt`])
  openssl(dir, ['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'revoked.crl'])
}

/** Makes every file in a new directory; returns their paths and contents. */
function makeCertificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-tls-'))
  ca(dir, 'ca', 'ferropg test CA')
  ca(dir, 'other-ca', 'ferropg untrusted CA')
  leaf(dir, 'server', { cn: 'localhost', san: 'DNS:localhost', usage: 'serverAuth' })
  leaf(dir, 'expired', { cn: 'localhost', san: 'DNS:localhost', usage: 'serverAuth', days: -1 })
  leaf(dir, 'client', { cn: 'certuser', usage: 'clientAuth' })
  crl(dir, 'server')
  const file = (name) => path.join(dir, name)
  const read = (name) => fs.readFileSync(file(name), 'utf8')
  return { dir, file, read, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

module.exports = { makeCertificates }
