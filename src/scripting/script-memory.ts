/**
 * The memory INFO reports for the EVAL script cache and its Lua VM, in
 * Redis 7.0's terms (INFO memory: used_memory_lua / used_memory_vm_eval,
 * used_memory_scripts_eval, number_of_cached_scripts).
 *
 * - used_memory_scripts_eval is modelled on what redis-server 7.0.15 (with
 *   jemalloc) reports: per cached script a dict entry (24 bytes), its sha
 *   (an sds of 40 chars: 48 bytes) and the body string object (an embedded
 *   string up to 44 bytes, else an object header plus an sds), plus 8 bytes
 *   per slot of the cache's hash table (0, then 4, 8, 16, ... slots).
 * - The VM size is an estimate: fengari runs on the JS heap and has no
 *   allocation count, so it is a fresh VM's size in redis-server (32 KiB)
 *   plus an allowance per compiled script, in whole KiB as Lua reports it.
 */

/** jemalloc's size class for an allocation of `n` bytes. */
export function jemallocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  const group = 2 ** Math.floor(Math.log2(n - 1));
  const step = group / 4;
  return Math.ceil(n / step) * step;
}

/** Allocation of an sds string of `len` bytes (header by length, NUL). */
function sdsBytes(len: number): number {
  const hdr = len < 32 ? 1 : len < 256 ? 3 : len < 65536 ? 5 : 9;
  return jemallocSize(hdr + len + 1);
}

/** A string object holding `len` bytes: embedded up to 44 bytes, else object + sds. */
function stringObjectBytes(len: number): number {
  return len <= 44 ? jemallocSize(16 + 3 + len + 1) : 16 + sdsBytes(len);
}

/** Slots of a Redis dict holding `n` entries (not rehashing). */
function dictSlots(n: number): number {
  if (n === 0) return 0;
  let s = 4;
  while (s < n) s *= 2;
  return s;
}

/** used_memory_scripts_eval for a cache holding these script bodies. */
export function evalScriptsMemory(bodyLengths: readonly number[]): number {
  let total = dictSlots(bodyLengths.length) * 8;
  for (const len of bodyLengths) total += 24 + sdsBytes(40) + stringObjectBytes(len);
  return total;
}

/** A fresh Lua VM in redis-server 7.0, in bytes. */
export const FRESH_VM_BYTES = 32768;

/** used_memory_vm_eval (estimate): a fresh VM plus each compiled script. */
export function evalVmMemory(bodyLengths: readonly number[]): number {
  let bytes = FRESH_VM_BYTES;
  for (const len of bodyLengths) bytes += 200 + 2 * len;
  return Math.floor(bytes / 1024) * 1024;
}
