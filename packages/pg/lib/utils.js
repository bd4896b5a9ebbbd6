'use strict'
// pg-cursor prepares its values with `pg/lib/utils.js`'s prepareValue.
module.exports = require('ferropg/pg/lib/utils.js')
