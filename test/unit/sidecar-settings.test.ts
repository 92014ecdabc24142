/**
 * Sidecar settings: config file < CACHESIDE_* environment < flags, the
 * default and demo routes, and bad config as errors naming the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractSidecarFlags, resolveSettings } from '../../src/sidecar/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'cacheside-settings-'));
function file(obj: unknown): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return p;
}

describe('extractSidecarFlags', () => {
  it('takes the sidecar flags out and leaves engine directives', () => {
    const { flags, rest } = extractSidecarFlags(['redis.conf', '--port', '6380', '--upstream', 'http://a:1', '--ttl=30', '--save', '900', '1', '--http-port', '9090']);
    expect(flags).toEqual({ upstream: 'http://a:1', ttl: '30', httpPort: '9090' });
    expect(rest).toEqual(['redis.conf', '--port', '6380', '--save', '900', '1']);
  });

  it('a flag without a value is an error', () => {
    expect(() => extractSidecarFlags(['--upstream', '--port', '1'])).toThrow('config: upstream (from --upstream): missing value');
  });
});

describe('resolveSettings', () => {
  it('defaults: demo mode for start, an error for proxy', () => {
    const s = resolveSettings({ flags: {}, env: {}, mode: 'start' });
    expect(s).toMatchObject({ demo: true, httpPort: 8080, httpBind: '0.0.0.0', purgeToken: null, routes: [] });
    expect(() => resolveSettings({ flags: {}, env: {}, mode: 'proxy' })).toThrow('config: upstream: missing (use --upstream URL, CACHESIDE_UPSTREAM, or a config file with routes)');
  });

  it('file < env < flags', () => {
    const cfg = file({ upstream: 'http://file:1', ttl: 10, httpPort: 1000, purgeToken: 'f' });
    const env = { CACHESIDE_CONFIG: cfg, CACHESIDE_TTL: '20', CACHESIDE_HTTP_PORT: '2000', CACHESIDE_PURGE_TOKEN: 'e' };
    const a = resolveSettings({ flags: {}, env, mode: 'start' });
    expect(a).toMatchObject({ httpPort: 2000, purgeToken: 'e', demo: false });
    expect(a.routes).toHaveLength(1);
    expect(a.routes[0]).toMatchObject({ prefix: '/', name: 'default', ttl: 20 });
    expect(a.routes[0]!.upstream!.href).toBe('http://file:1/');
    const b = resolveSettings({ flags: { ttl: '30', httpPort: '3000', upstream: 'http://flag:2' }, env, mode: 'start' });
    expect(b).toMatchObject({ httpPort: 3000 });
    expect(b.routes[0]).toMatchObject({ ttl: 30 });
    expect(b.routes[0]!.upstream!.href).toBe('http://flag:2/');
  });

  it('routes from the file inherit top-level defaults; the default route is added', () => {
    const cfg = file({ upstream: 'http://u:1', ttl: 5, staleIfError: 60, routes: [{ prefix: '/api/', ttl: 30, keyHeaders: ['Accept-Language'] }, { prefix: '/img/', upstream: 'http://img:2', cache: false }] });
    const s = resolveSettings({ flags: { config: cfg }, env: {}, mode: 'proxy' });
    expect(s.routes.map((r) => [r.prefix, r.ttl, r.staleIfError, r.upstream!.host, r.cache])).toEqual([
      ['/api/', 30, 60, 'u:1', true],
      ['/img/', 5, 60, 'img:2', false],
      ['/', 5, 60, 'u:1', true],
    ]);
    expect(s.routes[0]!.keyHeaders).toEqual(['accept-language']);
  });

  it('keep: 10 s unless the top level or the route sets it; not negative', () => {
    const cfg = file({ upstream: 'http://u:1', keep: 60, routes: [{ prefix: '/a/', keep: 0 }, { prefix: '/b/' }] });
    expect(resolveSettings({ flags: { config: cfg }, env: {}, mode: 'proxy' }).routes.map((r) => [r.prefix, r.keep])).toEqual([
      ['/a/', 0],
      ['/b/', 60],
      ['/', 60],
    ]);
    expect(resolveSettings({ flags: { upstream: 'http://u:1' }, env: {}, mode: 'proxy' }).routes[0]!.keep).toBe(10);
    const bad = file({ routes: [{ prefix: '/a', upstream: 'http://x:1', keep: -1 }] });
    expect(() => resolveSettings({ flags: { config: bad }, env: {}, mode: 'start' })).toThrow(`config: routes[0] (in ${bad}).keep: expected a number >= 0, got -1`);
  });

  it('bad config names the field and its source', () => {
    const env = {};
    expect(() => resolveSettings({ flags: { ttl: 'abc' }, env, mode: 'start' })).toThrow('config: ttl (from --ttl): expected a number, got "abc"');
    expect(() => resolveSettings({ flags: {}, env: { CACHESIDE_HTTP_PORT: '70000' }, mode: 'start' })).toThrow('config: httpPort (from CACHESIDE_HTTP_PORT): expected a number <= 65535, got "70000"');
    expect(() => resolveSettings({ flags: { upstream: 'nope' }, env, mode: 'start' })).toThrow('config: upstream (from --upstream): expected an http:// or https:// URL, got "nope"');
    const f1 = file({ routes: [{ prefix: '/a', upstream: 'http://x:1', maxObjectSize: -1 }] });
    expect(() => resolveSettings({ flags: { config: f1 }, env, mode: 'start' })).toThrow(`config: routes[0] (in ${f1}).maxObjectSize: expected a number >= 0, got -1`);
    const f2 = file({ upstreams: 'http://x' });
    expect(() => resolveSettings({ flags: { config: f2 }, env, mode: 'start' })).toThrow(new RegExp(`^config: upstreams \\(in ${f2.replace(/[.\\/]/g, '\\$&')}\\): unknown field`));
    const f3 = file('{ not json');
    expect(() => resolveSettings({ flags: { config: f3 }, env, mode: 'start' })).toThrow(/is not valid JSON/);
    expect(() => resolveSettings({ flags: { config: '/nonexistent.json' }, env, mode: 'start' })).toThrow("config: cannot read config file '/nonexistent.json'");
    const f4 = file({ routes: [{ prefix: '/a' }] });
    expect(() => resolveSettings({ flags: { config: f4 }, env, mode: 'start' })).toThrow('config: routes[0].upstream: missing');
    expect(() => resolveSettings({ flags: { upstream: 'http://a:1', logLevel: 'loud' }, env, mode: 'start' })).toThrow(/config: logLevel \(from --log-level\): expected one of/);
    expect(() => resolveSettings({ flags: { upstream: 'http://a:1', engine: 'http://x' }, env, mode: 'proxy' })).toThrow('config: engine (from --engine): expected a redis://, redis+cluster:// or redis+sentinel:// URL, got "http://x"');
  });
});
