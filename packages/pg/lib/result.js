'use strict'
// pg-cursor constructs pg's Result from `pg/lib/result.js` (which exports the class itself).
module.exports = require('ferropg/pg').Result
