/**
 * Pub/sub registry: channels, patterns and shard channels → subscribed
 * sessions. Delivery writes the message to each subscriber's Reply sink as a
 * RESP3 push (or a RESP2 array).
 */
import type { Session } from '../server/session.js';
import { globMatch } from '../keyspace/glob.js';

export class PubSub {
  readonly channels = new Map<string, Set<Session>>();
  readonly patterns = new Map<string, Set<Session>>();
  readonly shardChannels = new Map<string, Set<Session>>();

  /** Deliver to channel and pattern subscribers; returns the receiver count. */
  publish(channel: string, message: string): number {
    let n = 0;
    const subs = this.channels.get(channel);
    if (subs !== undefined) {
      for (const s of subs) {
        const r = s.reply;
        r.pushLen(3);
        r.bulk('message');
        r.bulk(channel);
        r.bulk(message);
        n++;
      }
    }
    if (this.patterns.size > 0) {
      for (const [pattern, set] of this.patterns) {
        if (!globMatch(pattern, channel)) continue;
        for (const s of set) {
          const r = s.reply;
          r.pushLen(4);
          r.bulk('pmessage');
          r.bulk(pattern);
          r.bulk(channel);
          r.bulk(message);
          n++;
        }
      }
    }
    return n;
  }

  /** SPUBLISH: shard channel subscribers only. */
  spublish(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (subs === undefined) return 0;
    for (const s of subs) {
      const r = s.reply;
      r.pushLen(3);
      r.bulk('smessage');
      r.bulk(channel);
      r.bulk(message);
    }
    return subs.size;
  }

  add(map: Map<string, Set<Session>>, name: string, s: Session): void {
    let set = map.get(name);
    if (set === undefined) map.set(name, (set = new Set()));
    set.add(s);
  }

  remove(map: Map<string, Set<Session>>, name: string, s: Session): void {
    const set = map.get(name);
    if (set === undefined) return;
    set.delete(s);
    if (set.size === 0) map.delete(name);
  }

  /** Drop every subscription of a closing session (no replies). */
  removeAll(s: Session): void {
    for (const c of s.channels) this.remove(this.channels, c, s);
    for (const p of s.patterns) this.remove(this.patterns, p, s);
    for (const c of s.shardChannels) this.remove(this.shardChannels, c, s);
    s.channels.clear();
    s.patterns.clear();
    s.shardChannels.clear();
  }
}
