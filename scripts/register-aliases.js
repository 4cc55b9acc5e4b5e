// Resolves the @smsfleet/* library imports of the compiled apps and tools (dist/) at run time.
const path = require('node:path');
require('tsconfig-paths').register({
  baseUrl: path.join(__dirname, '..', 'dist'),
  paths: { '@smsfleet/*': ['libs/*/src'] },
  addMatchAll: false,
});
