#!/usr/bin/env node
// Runs dynalite (an in-memory DynamoDB implementation) on 127.0.0.1 for tests.
//
//   node test/tools/dynalite_server.js PORT [DIR]
//
// With DIR, dynalite keeps its tables in that folder (LevelDB), so that
// they outlive the process; without, in memory only.
// Tables become ACTIVE (and are deleted or updated) at once. dynalite is loaded
// from test/node_modules (run `npm ci` in test/ first). A client that aborts
// mid-request makes dynalite rethrow the socket error, which would kill the
// process; such errors are ignored here, any other one is fatal.
'use strict'

const path = require('path')

const dynalite = require(path.join(__dirname, '..', 'node_modules', 'dynalite'))

// Socket errors caused by a client going away while its request is in flight.
const CLIENT_GONE_CODES = new Set(['ECONNRESET', 'EPIPE'])

const port = Number(process.argv[2])
const dir = process.argv[3]
if (!Number.isInteger(port) || port < 1 || port > 65535 || process.argv.length > 4) {
  console.error('usage: node dynalite_server.js PORT [DIR]')
  process.exit(2)
}

process.on('uncaughtException', (err) => {
  if (err && CLIENT_GONE_CODES.has(err.code)) return
  console.error('dynalite_server: fatal error:', err)
  process.exit(1)
})

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dir ? { path: dir } : {}) })
server.listen(port, '127.0.0.1', () => {
  console.log(`dynalite listening on http://127.0.0.1:${port}`)
})
