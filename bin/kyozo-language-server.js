#!/usr/bin/env node
'use strict';
// The language server for any editor: `kyozo-language-server --stdio` (or --node-ipc, --socket=N, --pipe=NAME).
const path = require('node:path');
const fs = require('node:fs');
const server = path.join(__dirname, '..', 'dist', 'server.js');
if (!fs.existsSync(server)) {
  process.stderr.write('kyozo-language-server: the server is not built yet. Run `npm run build` in '
    + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
const transports = ['--stdio', '--node-ipc'];
if (!process.argv.slice(2).some((a) => transports.includes(a) || /^--(socket|pipe)=/.test(a))) {
  process.stderr.write('kyozo-language-server: say how the editor talks to it: --stdio (most editors), --node-ipc, '
    + '--socket=<port> or --pipe=<name>. See docs/language-server.md.\n');
  process.exit(2);
}
require(server);
