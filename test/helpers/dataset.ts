/**
 * Persistence tests: fill a server with keys of every type and encoding
 * (small / big variants, TTLs, several databases), and mutate it randomly
 * while a save or rewrite runs. Works against cacheside or redis-server
 * through any client with `call`.
 */
export interface Caller {
  call(...args: (string | number | Buffer)[]): Promise<unknown>;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys of every type and encoding, in databases 0 and 2. */
export async function fillEveryType(c: Caller, opts: { big?: number; ttl?: boolean } = {}): Promise<void> {
  const big = opts.big ?? 300;
  const future = Date.now() + 3_600_000;
  await c.call('SELECT', 0);
  await c.call('SET', 'str:int', '12345');
  await c.call('SET', 'str:neg', '-7');
  await c.call('SET', 'str:small', 'hello');
  await c.call('SET', 'str:long', 'x'.repeat(500) + 'y'.repeat(500));
  await c.call('SET', 'str:bin', Buffer.from([0, 1, 2, 255, 254, 13, 10]));
  await c.call('APPEND', 'str:appended', 'abc');
  await c.call('APPEND', 'str:appended', 'def');
  await c.call('SETBIT', 'str:bits', 100, 1);
  await c.call('PFADD', 'hll', 'a', 'b', 'c');
  await c.call('RPUSH', 'list:small', 'a', 'b', '1', '2', '-3');
  const bigList: string[] = [];
  for (let i = 0; i < big; i++) bigList.push(i % 3 === 0 ? String(i) : `item-${i}-${'z'.repeat(i % 50)}`);
  await c.call('RPUSH', 'list:big', ...bigList);
  await c.call('SADD', 'set:int', 1, 2, 3, -4, 100000);
  await c.call('SADD', 'set:str', 'a', 'b', 'c');
  const bigSet: string[] = [];
  for (let i = 0; i < big * 2; i++) bigSet.push(String(i * 7));
  await c.call('SADD', 'set:bigint', ...bigSet);
  await c.call('ZADD', 'zset:small', 1, 'a', 2.5, 'b', -3, 'c', '+inf', 'd');
  const bigZ: (string | number)[] = [];
  for (let i = 0; i < big; i++) bigZ.push(i / 7, `m${i}`);
  await c.call('ZADD', 'zset:big', ...bigZ);
  await c.call('HSET', 'hash:small', 'f1', 'v1', 'f2', '2', 'f3', '');
  const bigH: string[] = [];
  for (let i = 0; i < big * 2; i++) bigH.push(`field${i}`, `value${i}`);
  await c.call('HSET', 'hash:big', ...bigH);
  await c.call('HSET', 'hash:longval', 'f', 'v'.repeat(100));
  await c.call('XADD', 'stream', '1-1', 'f', 'v');
  await c.call('XADD', 'stream', '2-1', 'f', 'v2', 'g', 'h');
  for (let i = 3; i < 60; i++) await c.call('XADD', 'stream', `${i}-0`, 'field', `value${i}`);
  await c.call('XDEL', 'stream', '2-1');
  await c.call('XGROUP', 'CREATE', 'stream', 'grp', '0');
  await c.call('XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', 3, 'STREAMS', 'stream', '>');
  await c.call('XGROUP', 'CREATECONSUMER', 'stream', 'grp', 'bob');
  await c.call('XGROUP', 'CREATE', 'stream', 'grp2', '$');
  await c.call('XADD', 'stream:empty', 'MAXLEN', '0', '5-5', 'a', 'b');
  if (opts.ttl !== false) {
    await c.call('SET', 'ttl:str', 'v', 'PXAT', future);
    await c.call('RPUSH', 'ttl:list', 'a');
    await c.call('PEXPIREAT', 'ttl:list', future + 1);
    await c.call('HSET', 'ttl:hash', 'a', '1');
    await c.call('PEXPIREAT', 'ttl:hash', future + 2);
  }
  await c.call('SELECT', 2);
  await c.call('SET', 'db2:str', 'in db 2');
  await c.call('SADD', 'db2:set', 'x', 'y');
  await c.call('SELECT', 0);
}

/** Many small keys (strings, some with TTLs) in database 0. */
export async function fillStrings(c: Caller & { pipeline?: () => unknown }, n: number, prefix = 'key'): Promise<void> {
  const batch = 1000;
  for (let i = 0; i < n; i += batch) {
    const args: string[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) args.push(`${prefix}:${j}`, `value:${j}`);
    await c.call('MSET', ...args);
  }
}

/** One random write over a small key space of every type. */
export async function randomWrite(c: Caller, rnd: () => number, i: number): Promise<void> {
  const k = Math.floor(rnd() * 40);
  switch (Math.floor(rnd() * 10)) {
    case 0:
      await c.call('SET', `key:${k}`, `w${i}`);
      return;
    case 1:
      await c.call('DEL', `key:${k}`);
      return;
    case 2:
      await c.call('RPUSH', 'list:big', `w${i}`);
      return;
    case 3:
      await c.call('LPOP', 'list:small');
      return;
    case 4:
      await c.call('SADD', 'set:int', i);
      return;
    case 5:
      await c.call('ZADD', 'zset:big', i, `m${k}`);
      return;
    case 6:
      await c.call('HSET', 'hash:big', `field${k}`, `w${i}`);
      return;
    case 7:
      await c.call('PEXPIREAT', `key:${k}`, Date.now() + 1_000_000);
      return;
    case 8:
      await c.call('INCR', 'str:int');
      return;
    default:
      await c.call('APPEND', 'str:appended', 'x');
  }
}
