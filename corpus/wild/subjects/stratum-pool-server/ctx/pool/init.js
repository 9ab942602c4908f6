'use strict';
// Pool entry point: load config.json and start the stratum server module.
const fs = require('fs');
const path = require('path');

const arg = process.argv.find((a) => a.startsWith('-config='));
const file = path.resolve(arg ? arg.slice('-config='.length) : 'config.json');
const config = JSON.parse(fs.readFileSync(file, 'utf8'));
require('./lib/pool').start(config);
