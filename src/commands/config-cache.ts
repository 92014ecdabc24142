/**
 * Numeric configs that command handlers read on every call (encoding
 * limits such as hash-max-listpack-value), cached per config store in a
 * plain object that CONFIG SET listeners keep current: a property read
 * instead of two Map lookups per config per command.
 *
 *   const hashLimits = configCache({ maxValue: 'hash-max-listpack-value', ... });
 *   hashLimits(s.engine.config).maxValue
 */
import type { ConfigStore } from '../config/config-store.js';

export function configCache<K extends string>(names: Record<K, string>): (cfg: ConfigStore) => Readonly<Record<K, number>> {
  const cache = new WeakMap<ConfigStore, Record<K, number>>();
  const keys = Object.keys(names) as K[];
  return (cfg) => {
    let v = cache.get(cfg);
    if (v === undefined) {
      const obj = {} as Record<K, number>;
      for (const k of keys) {
        obj[k] = cfg.num(names[k]);
        cfg.onChange(names[k], (x) => (obj[k] = x as number));
      }
      cache.set(cfg, (v = obj));
    }
    return v;
  };
}
