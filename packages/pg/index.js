'use strict'
// `require('pg')` where `pg` is aliased to this package: ferropg's node-postgres interface.
module.exports = require('ferropg/pg')
