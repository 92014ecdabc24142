// Where the built cacheside CLI is and which node flags it runs with: shared
// by the benchmarks (bench-kit.mjs) and the interop test harness
// (test/interop/harness.ts, typed by cacheside-cli.d.mts), which both start
// `node <flags> dist/cli.js server ...` as child processes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, resolved from this file's location (not from cwd). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The built cacheside CLI. */
export const CACHESIDE_CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** The node flags cacheside runs with: those on its shebang line (`#!/usr/bin/env -S node <flags>`). */
export function cachesideNodeArgs() {
  const first = readFileSync(CACHESIDE_CLI, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env -S node(.*)$/.exec(first);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}
