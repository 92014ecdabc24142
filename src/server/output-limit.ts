/**
 * Whether a client's pending output has passed its hard
 * client-output-buffer-limit: commands that produce huge replies (KEYS,
 * HRANDFIELD / SRANDMEMBER / ZRANDMEMBER with a negative count) stop early
 * then, as Redis stops them once the client is scheduled to be closed; the
 * connection closes the client after the command without sending anything.
 */
import type { Session } from './session.js';
import type { ObufLimits } from '../config/config-store.js';

export function outputLimitReached(s: Session): boolean {
  const tr = s.transport;
  if (tr === null) return false;
  const limits = s.engine.config.get('client-output-buffer-limit') as ObufLimits;
  const lim = s.subscriptionCount > 0 ? limits.pubsub : limits.normal;
  return lim.hard > 0 && tr.outputBytes() >= lim.hard;
}
