#!/usr/bin/env node
// Fails when package-lock.json lacks a package that npm would record on some platform.
//
// `npm ci` accepts a lockfile that matches package.json but was written on a machine whose
// registry did not serve every platform's optional binaries (biome, esbuild, lmdb, msgpackr
// each ship one package per platform). Such a lockfile installs here and changes on the next
// machine's `npm install`; this check names what is missing instead. Plain JavaScript: it runs
// before anything is installed.
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
const packages = lock.packages ?? {};

/** Where node would find `name` from the package at `from` (node_modules lookup, upwards). */
function resolves(from, name) {
  let dir = from;
  for (;;) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const cut = dir.lastIndexOf('node_modules/');
    dir = cut <= 0 ? '' : dir.slice(0, cut - 1);
  }
}

const missing = [];
for (const [path, entry] of Object.entries(packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolves(path, name))
      missing.push(`${name} (optional dependency of ${path || 'the project'})`);
  }
}

if (missing.length > 0) {
  console.error(
    `package-lock.json is incomplete: ${missing.length} optional package(s) are not recorded:\n` +
      missing.map((m) => `  - ${m}`).join('\n') +
      '\nRun `npm install` on a machine whose registry serves every platform and commit the lockfile.',
  );
  process.exit(1);
}
console.log(`package-lock.json is complete (${Object.keys(packages).length - 1} packages)`);
