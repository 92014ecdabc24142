/**
 * Pub/sub registry: channels, patterns and shard channels → subscribed
 * sessions, mirrored by each session's own `channels` / `patterns` /
 * `shardChannels` sets. Delivery writes the message to each subscriber's Reply
 * sink as a RESP3 push (a plain array in RESP2); a TCP session's writer
 * schedules its flush on the first write, so a message produced during another
 * client's command (or by the cron, e.g. an `expired` notification) goes out
 * in the same event-loop turn.
 */
import type { Session } from '../server/session.js';
import { globMatch } from '../keyspace/glob.js';

type Registry = Map<string, Set<Session>>;

export class PubSub {
  readonly channels: Registry = new Map();
  readonly patterns: Registry = new Map();
  readonly shardChannels: Registry = new Map();

  // ---- delivery -------------------------------------------------------------

  /** PUBLISH: deliver to channel and pattern subscribers; returns the number of deliveries. */
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
      }
      n += subs.size;
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
        }
        n += set.size;
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

  // ---- subscriptions ----------------------------------------------------------
  // Each returns true when the subscription set of the session changed.

  subscribe(s: Session, channel: string): boolean {
    return link(this.channels, s.channels, channel, s);
  }
  unsubscribe(s: Session, channel: string): boolean {
    return unlink(this.channels, s.channels, channel, s);
  }
  psubscribe(s: Session, pattern: string): boolean {
    return link(this.patterns, s.patterns, pattern, s);
  }
  punsubscribe(s: Session, pattern: string): boolean {
    return unlink(this.patterns, s.patterns, pattern, s);
  }
  ssubscribe(s: Session, channel: string): boolean {
    return link(this.shardChannels, s.shardChannels, channel, s);
  }
  sunsubscribe(s: Session, channel: string): boolean {
    return unlink(this.shardChannels, s.shardChannels, channel, s);
  }

  /** Drop every subscription of a closing (or RESET) session, with no replies. */
  removeAll(s: Session): void {
    for (const c of s.channels) drop(this.channels, c, s);
    for (const p of s.patterns) drop(this.patterns, p, s);
    for (const c of s.shardChannels) drop(this.shardChannels, c, s);
    s.channels.clear();
    s.patterns.clear();
    s.shardChannels.clear();
  }

  // ---- introspection ------------------------------------------------------------

  /** Subscribers of a channel (PUBSUB NUMSUB; pattern subscriptions excluded). */
  numsub(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }
  shardNumsub(channel: string): number {
    return this.shardChannels.get(channel)?.size ?? 0;
  }
  /** Distinct patterns with at least one subscriber (PUBSUB NUMPAT). */
  get numpat(): number {
    return this.patterns.size;
  }
}

function link(reg: Registry, own: Set<string>, name: string, s: Session): boolean {
  if (own.has(name)) return false;
  own.add(name);
  let set = reg.get(name);
  if (set === undefined) reg.set(name, (set = new Set()));
  set.add(s);
  return true;
}

function unlink(reg: Registry, own: Set<string>, name: string, s: Session): boolean {
  if (!own.delete(name)) return false;
  drop(reg, name, s);
  return true;
}

function drop(reg: Registry, name: string, s: Session): void {
  const set = reg.get(name);
  if (set === undefined) return;
  set.delete(s);
  if (set.size === 0) reg.delete(name);
}
