/**
 * PFSELFTEST: a consistency check of the HLL code (well under a second,
 * Redis's own runs longer): dense register packing against a plain array, the
 * sparse code against the dense one for the same elements, and the estimate's
 * error at 1, 10, ..., 100000 elements.
 */
import { MutableString } from '../keyspace/values.js';
import {
  HLL_DENSE_SIZE,
  HLL_REGISTERS,
  HLL_REGISTER_MAX,
  denseGet,
  denseWrite,
  HLL_SPARSE,
  emptySparseBytes,
  encodingOfHll,
  hllAdd,
  hllCount,
  sparseToDense,
} from './hll.js';

/** A deterministic xorshift PRNG, so that a failure repeats. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function newDense(): MutableString {
  const m = new MutableString(emptySparseBytes());
  sparseToDense(m);
  return m;
}

/**
 * Null when every check passes, else what failed. As in Redis, the sparse
 * value must still be sparse at the checkpoints (1, 10, 100, ... elements)
 * below half of `sparseMaxBytes` elements, which a very low
 * hll-sparse-max-bytes makes fail.
 */
export function selfTest(sparseMaxBytes: number): string | null {
  const rnd = xorshift(0x5eed);
  // 1. Register packing.
  const model = new Uint8Array(HLL_REGISTERS);
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = rnd() & HLL_REGISTER_MAX;
      model[i] = v;
      denseWrite(dense, i, v);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      if (denseGet(dense, i) !== model[i]) return `Register error at index ${i}`;
    }
  }
  // 2. Sparse and dense agree, and the estimate stays close to the truth.
  const sparse = new MutableString(emptySparseBytes());
  const full = newDense();
  const relErr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const salt = rnd();
  let checkpoint = 1;
  for (let n = 1; n <= 100_000; n++) {
    const ele = `selftest:${salt}:${n}`;
    if (hllAdd(sparse, ele, sparseMaxBytes) < 0) return 'sparse HLL corrupted';
    hllAdd(full, ele, 0);
    if (n !== checkpoint) continue;
    checkpoint *= 10;
    if (n < sparseMaxBytes / 2 && encodingOfHll(sparse) !== HLL_SPARSE) return 'sparse encoding not used';
    const a = hllCount(sparse);
    const b = hllCount(full);
    if (a === null || a !== b) return 'dense/sparse disagree';
    const absErr = Math.abs(n - Number(b));
    const maxErr = n === 10 ? 1 : Math.ceil(relErr * 6 * n);
    if (absErr > maxErr) return `Too big error. card:${b} abserr:${absErr}`;
  }
  if (!sparseToDense(sparse)) return 'sparse to dense conversion failed';
  for (let i = 0; i < HLL_REGISTERS; i++) {
    if (denseGet(sparse.buf, i) !== denseGet(full.buf, i)) return `sparse register ${i} differs from dense`;
  }
  return null;
}
