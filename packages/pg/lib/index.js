'use strict'
module.exports = require('ferropg/pg')
