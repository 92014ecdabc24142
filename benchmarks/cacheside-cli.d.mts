// Types of cacheside-cli.mjs for the TypeScript tests that import it.

/** Repository root, resolved from the module's location (not from cwd). */
export declare const REPO_ROOT: string;
/** The built cacheside CLI (dist/cli.js). */
export declare const CACHESIDE_CLI: string;
/** The node flags cacheside runs with: those on its shebang line (`#!/usr/bin/env -S node <flags>`). */
export declare function cachesideNodeArgs(): string[];
