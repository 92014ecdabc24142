/**
 * INFO for tests: a section as field → value, and waiting for a replica to
 * have applied everything its master sent.
 */
import type { Redis } from 'ioredis';
import { waitUntil } from './raw-client.js';

/** One INFO section as field → value (headings and blank lines skipped). */
export async function infoFields(c: Redis, section: string): Promise<Record<string, string>> {
  const text = (await c.call('INFO', section)) as string;
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Waits until `replica` follows `master` (link up, same replid) at the master's offset. */
export async function replicaInSync(master: Redis, replica: Redis, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const r = await infoFields(replica, 'replication');
      const m = await infoFields(master, 'replication');
      return r.master_link_status === 'up' && r.master_repl_offset === m.master_repl_offset && r.master_replid === m.master_replid;
    },
    timeoutMs,
    'replica in sync',
  );
}
