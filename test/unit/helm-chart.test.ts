/**
 * The Helm chart in helm/cacheside, checked without a helm binary: its YAML
 * parses, every .Values path a template reads exists in values.yaml, the
 * redis.conf it renders names only real directives with values the engine
 * accepts, the command-line flags it passes are the CLI's own, and the
 * templates' actions and blocks are balanced.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_TABLE, SPECIAL_DIRECTIVES } from '../../src/config/config-table.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { splitCommandLine, applyCommandLine } from '../../src/cli-args.js';
import { SIDECAR_FLAGS, extractSidecarFlags } from '../../src/sidecar/settings.js';
import { START_HELP } from '../../src/sidecar/cli-run.js';

const root = join(import.meta.dirname, '../..');
const chartDir = join(root, 'helm/cacheside');
const templatesDir = join(chartDir, 'templates');
const read = (p: string) => readFileSync(p, 'utf8');

type Tree = Record<string, unknown>;
const chart = parse(read(join(chartDir, 'Chart.yaml'))) as Tree;
const valuesText = read(join(chartDir, 'values.yaml'));
const values = parse(valuesText) as Tree;
const templateNames = readdirSync(templatesDir).sort();
const templates = new Map(templateNames.map((n) => [n, read(join(templatesDir, n))]));
const allTemplateText = [...templates.values()].join('\n');

const directiveNames = new Set<string>();
for (const d of CONFIG_TABLE) {
  directiveNames.add(d.name);
  if (d.alias !== undefined) directiveNames.add(d.alias);
}

/** Every `{{ ... }}` action of a template, with its text inside the delimiters. */
function actions(text: string): string[] {
  return [...text.matchAll(/\{\{-?([\s\S]*?)-?\}\}/g)].map((m) => m[1]!.trim());
}

/** The YAML-1.1 view Helm (go-yaml) has of values.yaml: unquoted yes/no are booleans there. */
const valuesHelm = parse(valuesText, { version: '1.1' }) as Tree;

/** What the "cacheside.confValue" helper writes for a value (see _helpers.tpl). */
function confValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return String(Math.trunc(v));
  if (String(v) === '') return '""';
  return String(v);
}

function lookup(tree: Tree, path: string[]): { found: boolean; value: unknown } {
  let cur: unknown = tree;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, k)) return { found: false, value: undefined };
    cur = (cur as Tree)[k];
  }
  return { found: true, value: cur };
}

describe('Chart.yaml and values.yaml', () => {
  it('Chart.yaml is a v2 application chart whose appVersion is the package version', () => {
    const pkg = JSON.parse(read(join(root, 'package.json'))) as { version: string };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('cacheside');
    expect(chart.type).toBe('application');
    expect(String(chart.version)).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(chart.appVersion).toBe(pkg.version);
  });

  it('values.yaml has the documented top-level settings', () => {
    expect(values.mode).toBe('start');
    for (const k of ['image', 'engine', 'auth', 'sidecar', 'service', 'persistence', 'resources', 'podSecurityContext', 'containerSecurityContext', 'replica', 'serviceAccount']) {
      expect(values, k).toHaveProperty(k);
    }
    expect(lookup(values, ['serviceAccount', 'create']).value).toBe(false);
    expect(lookup(values, ['containerSecurityContext', 'readOnlyRootFilesystem']).value).toBe(true);
    expect(lookup(values, ['podSecurityContext', 'runAsNonRoot']).value).toBe(true);
  });

  it('the default maxmemory is well below the memory limit (1.5 x maxmemory + start-up footprint)', () => {
    const store = new ConfigStore();
    store.set('maxmemory', String(lookup(values, ['engine', 'config', 'maxmemory']).value), true);
    const maxmemory = store.num('maxmemory');
    const limit = String(lookup(values, ['resources', 'limits', 'memory']).value);
    const m = /^(\d+)(Mi|Gi)$/.exec(limit);
    expect(m, limit).not.toBeNull();
    const limitBytes = Number(m![1]) * (m![2] === 'Gi' ? 1024 ** 3 : 1024 ** 2);
    const l1 = 64 * 1024 * 1024;
    expect(maxmemory).toBeGreaterThan(0);
    expect(1.5 * maxmemory + 150 * 1024 * 1024 + l1).toBeLessThan(limitBytes);
  });

  it('every template file is in the chart, with NOTES.txt and _helpers.tpl', () => {
    expect(templateNames).toContain('_helpers.tpl');
    expect(templateNames).toContain('NOTES.txt');
    for (const t of ['configmap.yaml', 'statefulset.yaml', 'service.yaml', 'service-headless.yaml']) expect(templateNames).toContain(t);
  });
});

describe('templates', () => {
  it('every .Values path they read exists in values.yaml', () => {
    const paths = new Set<string>();
    for (const m of allTemplateText.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) paths.add(m[1]!.slice(1));
    expect(paths.size).toBeGreaterThan(40);
    const missing = [...paths].filter((p) => !lookup(values, p.split('.')).found);
    expect(missing).toEqual([]);
  });

  it('every helper they include is defined', () => {
    const defined = new Set([...allTemplateText.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)].map((m) => m[1]!));
    const used = new Set([...allTemplateText.matchAll(/include\s+"([^"]+)"/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((u) => !defined.has(u))).toEqual([]);
  });

  it('use only plain Helm / Go-template functions', () => {
    const allowed = new Set([
      // Go template
      'if', 'else', 'end', 'range', 'with', 'define', 'and', 'or', 'not', 'eq', 'ne', 'index', 'print', 'printf', 'len',
      // Helm
      'include', 'toYaml', 'toPrettyJson', 'required', 'fail',
      // sprig, as Helm ships it
      'default', 'quote', 'nindent', 'indent', 'trunc', 'trimSuffix', 'replace', 'contains', 'kindIs', 'ternary', 'int64', 'toString',
      'has', 'list', 'hasKey', 'dict', 'sha256sum', 'b64enc', 'dig',
    ]);
    const unknown = new Set<string>();
    for (const [name, text] of templates) {
      for (const a of actions(text)) {
        if (a.startsWith('/*')) continue;
        const code = a.replace(/"(?:[^"\\]|\\.)*"/g, '""');
        for (const m of code.matchAll(/(?:^|[\s(|])([a-zA-Z][a-zA-Z0-9]*)(?=[\s)]|$)/g)) {
          if (!allowed.has(m[1]!)) unknown.add(`${name}: ${m[1]}`);
        }
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it('have balanced {{ }} and balanced if/range/with/define ... end blocks', () => {
    for (const [name, text] of templates) {
      const opens = (text.match(/\{\{/g) ?? []).length;
      const closes = (text.match(/\}\}/g) ?? []).length;
      expect(opens, `${name}: {{ vs }}`).toBe(closes);
      const stack: string[] = [];
      for (const a of actions(text)) {
        if (a.startsWith('/*')) {
          expect(a.endsWith('*/'), `${name}: comment ${a.slice(0, 30)}`).toBe(true);
          continue;
        }
        const kw = /^(\w+)/.exec(a)?.[1];
        if (kw === 'if' || kw === 'range' || kw === 'with' || kw === 'define' || kw === 'block') stack.push(kw);
        else if (kw === 'else') expect(stack.length, `${name}: else outside a block`).toBeGreaterThan(0);
        else if (kw === 'end') {
          expect(stack.length, `${name}: end without a block`).toBeGreaterThan(0);
          stack.pop();
        }
      }
      expect(stack, `${name}: unclosed blocks`).toEqual([]);
    }
  });

  it('the .yaml templates are YAML once their actions are taken out', () => {
    for (const [name, text] of templates) {
      if (!name.endsWith('.yaml')) continue;
      // Drop whole-line actions, then put a scalar from the first action of a line to its end.
      const stripped = text
        .split('\n')
        .filter((l) => !/^\s*\{\{-?[\s\S]*\}\}\s*$/.test(l) || /:\s*\{\{/.test(l) || /^\s*-\s*\{\{/.test(l))
        .map((l) => l.replace(/\{\{.*$/, 'x'))
        .join('\n');
      for (const doc of parseAllDocuments(stripped)) expect(doc.errors.map((e) => `${name}: ${e.message}`)).toEqual([]);
    }
  });
});

describe('the rendered redis.conf', () => {
  const cm = templates.get('configmap.yaml')!;
  const block = /redis\.conf: \|\n([\s\S]*?)\n {2}\{\{- if \.Values\.sidecar\.config/.exec(cm)?.[1];

  /** Directive lines written literally by the template (port from engine.port). */
  const literal = (block ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('{{'));

  it('names only directives of the config table', () => {
    expect(block).toBeDefined();
    const names = new Set<string>(literal.map((l) => l.split(/\s+/)[0]!));
    for (const k of Object.keys(lookup(values, ['engine', 'config']).value as Tree)) names.add(k);
    // The names the template refuses in engine.config are directives too (set by the chart instead).
    const reserved = /list ((?:"[a-z-]+"\s*)+)/.exec(cm)![1]!.match(/[a-z-]+/g)!;
    for (const r of reserved) names.add(r);
    expect(names).toContain('dir');
    expect(names).toContain('maxmemory');
    expect([...names].filter((n) => !directiveNames.has(n) || SPECIAL_DIRECTIVES.has(n))).toEqual([]);
  });

  it('loads into the engine config with the default values, as Helm reads them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-helm-'));
    try {
      const lines = literal.map((l) => l.replace('{{ .Values.engine.port }}', String(lookup(valuesHelm, ['engine', 'port']).value)).replace(/^dir \/data$/, `dir ${dir}`));
      expect(lines.some((l) => l.includes('{{'))).toBe(false);
      for (const [k, v] of Object.entries(lookup(valuesHelm, ['engine', 'config']).value as Tree)) {
        if (v !== null) lines.push(`${k} ${confValue(v)}`);
      }
      const store = new ConfigStore();
      store.loadText(lines.join('\n') + '\n', 'redis.conf');
      expect(store.str('bind')).toBe('* -::*');
      expect(store.bool('protected-mode')).toBe(false);
      expect(store.num('port')).toBe(6379);
      expect(store.str('maxmemory-policy')).toBe('allkeys-lru');
      expect(store.bool('appendonly')).toBe(false);
      expect(store.num('maxmemory')).toBe(256 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes yes/no for booleans and an empty save as ""', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-helm-'));
    try {
      const store = new ConfigStore();
      store.loadText(`dir ${dir}\nappendonly ${confValue(true)}\nsave ${confValue('')}\ntracking-table-max-keys ${confValue(1e6)}\n`, 'redis.conf');
      expect(store.bool('appendonly')).toBe(true);
      expect(store.get('save')).toEqual([]);
      expect(store.num('tracking-table-max-keys')).toBe(1_000_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the command lines', () => {
  /**
   * The args: list of a StatefulSet template as the CLI would get it: control
   * lines dropped, range blocks (extraArgs) left out, `{{ ... }}` values
   * replaced by a number.
   */
  function argsOf(name: string): string[] {
    const text = templates.get(name)!;
    const m = /\n( +)args:\n([\s\S]*?)\n\1[a-z]+:/.exec(text);
    expect(m, `${name}: args block`).not.toBeNull();
    const out: string[] = [];
    let inRange = 0;
    for (const raw of m![2]!.split('\n')) {
      const l = raw.trim();
      if (l.startsWith('#')) continue;
      if (/^\{\{-?\s*range\b/.test(l)) inRange++;
      else if (/^\{\{-?\s*end\b/.test(l) && inRange > 0) inRange--;
      else if (l.startsWith('- ') && inRange === 0) out.push(l.slice(2).includes('{{') ? '1' : l.slice(2));
    }
    return out;
  }

  it('every flag is a sidecar flag of cacheside start or an engine directive', () => {
    const flags = [...allTemplateText.matchAll(/^\s*- (--[a-z0-9-]+)\s*$/gm)].map((m) => m[1]!.slice(2));
    expect(flags).toEqual(expect.arrayContaining(['http-port', 'upstream', 'ttl', 'replicaof', 'requirepass']));
    for (const f of flags) {
      if (Object.hasOwn(SIDECAR_FLAGS, f)) {
        expect(START_HELP, f).toContain(`--${f} `);
      } else {
        expect(directiveNames.has(f) && !SPECIAL_DIRECTIVES.has(f), `--${f}`).toBe(true);
      }
    }
  });

  it('the primary (start mode) passes the config file, sidecar flags the sidecar takes and directives the engine takes', () => {
    const args = argsOf('statefulset.yaml');
    expect(args.slice(0, 2)).toEqual(['1', '/etc/cacheside/redis.conf']);
    const { flags, rest } = extractSidecarFlags(args.slice(1));
    expect(Object.keys(flags).sort()).toEqual(['config', 'httpPort', 'keyPrefix', 'l1MaxBytes', 'logLevel', 'staleIfError', 'staleWhileRevalidate', 'ttl', 'upstream']);
    expect(flags.config).toBe('/etc/cacheside/sidecar.json');
    const parsed = splitCommandLine(rest);
    expect(parsed.configFile).toBe('/etc/cacheside/redis.conf');
    expect(parsed.directives).toEqual([{ name: 'requirepass', values: ['$(CACHESIDE_REQUIREPASS)'] }]);
    const store = new ConfigStore();
    applyCommandLine(store, { configFile: null, directives: parsed.directives });
    expect(store.str('requirepass')).toBe('$(CACHESIDE_REQUIREPASS)');
  });

  it('replicas run `server --replicaof <primary> <port>` with the password as masterauth', () => {
    const args = argsOf('statefulset-replica.yaml');
    expect(args.slice(0, 2)).toEqual(['server', '/etc/cacheside/redis.conf']);
    const parsed = splitCommandLine(args.slice(1));
    expect(parsed.directives.map((d) => d.name)).toEqual(['replicaof', 'requirepass', 'masterauth']);
    const store = new ConfigStore();
    applyCommandLine(store, { configFile: null, directives: parsed.directives.map((d) => (d.name === 'replicaof' ? { name: d.name, values: ['cache-cacheside.default.svc.cluster.local', '6379'] } : d)) });
    expect(store.str('replicaof')).toBe('cache-cacheside.default.svc.cluster.local 6379');
    expect(store.str('masterauth')).toBe('$(CACHESIDE_REQUIREPASS)');
  });

  it('probes use the sidecar endpoints in start mode and the RESP port over TCP otherwise', () => {
    const sts = templates.get('statefulset.yaml')!;
    expect(sts).toContain('path: /healthz');
    expect(sts).toContain('path: /readyz');
    expect(sts).toContain('tcpSocket:');
    expect(sts).not.toContain('redis-cli');
    const server = read(join(root, 'src/sidecar/server.ts'));
    expect(server).toContain("app.get('/healthz'");
    expect(server).toContain("app.get('/readyz'");
    expect(server).toContain("app.get('/metrics'");
  });
});

describe('helm/Dockerfile', () => {
  const df = read(join(root, 'helm/Dockerfile'));
  it('builds on node:20-slim with npm ci, npm run build and a dev-dependency prune, and runs as non-root', () => {
    const froms = [...df.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.every((f) => f === 'node:20-slim')).toBe(true);
    expect(df).toMatch(/^RUN npm ci\b/m);
    expect(df).toContain('npm run build');
    expect(df).toContain('npm prune --omit=dev');
    expect(df).toMatch(/^USER 1000:1000$/m);
    expect(df).toMatch(/^ENTRYPOINT \["node", "--max-semi-space-size=1", "\/app\/dist\/cli\.js"\]$/m);
  });

  it('copies only files that exist in the build context (the repository root)', () => {
    for (const m of df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) expect(() => readFileSync(join(root, src === 'src' ? 'src/cli.ts' : src)), src).not.toThrow();
    }
  });
});
