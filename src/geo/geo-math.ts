/**
 * sin, cos and asin rounded correctly (to the nearest double) for the GEO
 * distance computations.
 *
 * Redis computes distances with the C library's sin/cos/asin; glibc's are
 * accurate to about half an ulp (correctly rounded for all but ~0.1% of
 * arguments). V8's Math.sin/cos/asin (fdlibm) are only within one ulp and
 * differ from glibc's in the last bit for 3-6% of the arguments: enough to
 * change a distance stored by GEOSEARCHSTORE ... STOREDIST in a tenth of
 * the cases, or the fate of a member exactly on the edge of a search. These
 * round correctly instead (Ziv's strategy): a fast evaluation accurate to
 * ~2^-60 decides the rounding for ~98% of the arguments, the rest are
 * evaluated in double-double arithmetic (~2^-70). What remains different
 * from Redis is glibc's own rare misroundings.
 *
 * Arguments beyond 2^20 radians (only reachable through absurd search radii)
 * fall back to Math.sin/Math.cos.
 */

// ---------------------------------------------------------------------------
// Double-double primitives: a value is hi + lo with |lo| <= ulp(hi)/2.

const SPLITTER = 134217729; // 2^27 + 1

let rHi = 0;
let rLo = 0;

/** Exact product a*b into (rHi, rLo) (Dekker). */
function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  rHi = p;
  rLo = ah * bh - p + ah * bl + al * bh + al * bl;
}

/** (ah, al) * (bh, bl) into (rHi, rLo). */
function mulDD(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const lo = rLo + (ah * bl + al * bh);
  const s = rHi + lo;
  rLo = lo - (s - rHi);
  rHi = s;
}

/** (ah, al) + (bh, bl) into (rHi, rLo). */
function addDD(ah: number, al: number, bh: number, bl: number): void {
  const s = ah + bh;
  const bb = s - ah;
  let e = ah - (s - bb) + (bh - bb);
  e += al + bl;
  const h = s + e;
  rLo = e - (h - s);
  rHi = h;
}

/** 1/n! as double-doubles, n = 0..31 (n! is exact in a double up to 22!; beyond, the BigInt path). */
const INV_FACT_HI: number[] = [];
const INV_FACT_LO: number[] = [];
{
  let f = 1n;
  for (let n = 0; n < 32; n++) {
    if (n > 0) f *= BigInt(n);
    // hi = nearest double to 1/f; lo = nearest double to (1/f - hi), from exact rationals.
    const hi = 1 / Number(f);
    // 1/f - hi = (1 - hi*f)/f; hi = m * 2^e exactly.
    const { m, e } = decompose(hi);
    // (2^-e - m*f) / (f * 2^-e)  with e < 0
    const num = (1n << BigInt(-e)) - m * f;
    const den = f << BigInt(-e);
    INV_FACT_HI.push(hi);
    INV_FACT_LO.push(ratioToDouble(num, den));
  }
}

/** A positive double as m * 2^e with integer m (m < 2^53). */
function decompose(x: number): { m: bigint; e: number } {
  let e = 0;
  while (!Number.isInteger(x)) {
    x *= 2;
    e--;
  }
  return { m: BigInt(x), e };
}

/** num/den as a double (to well within an ulp; used for tiny correction terms only). */
function ratioToDouble(num: bigint, den: bigint): number {
  const neg = num < 0n;
  if (neg) num = -num;
  // Scale so that the quotient has ~64 significant bits.
  const shift = 64 - (num.toString(2).length - den.toString(2).length);
  const q = shift >= 0 ? (num << BigInt(shift)) / den : num / (den << BigInt(-shift));
  const v = Number(q) * 2 ** -shift;
  return neg ? -v : v;
}

// pi/2 split into doubles: PIO2[0] has 33 significant bits (so k * PIO2[0] is
// exact for |k| < 2^20), the next ones 53 bits each.
const PI_DIGITS =
  '3141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342117067982148086513282306647093844609550582231725359408128481';
const PIO2: number[] = [];
{
  const FRAC = 400n;
  let rem = (BigInt(PI_DIGITS) << FRAC) / (2n * 10n ** BigInt(PI_DIGITS.length - 1)); // pi/2 * 2^400
  for (const bits of [33, 53, 53, 53]) {
    const len = rem.toString(2).length;
    const shift = BigInt(len - bits);
    const top = rem >> shift;
    PIO2.push(Number(top) * 2 ** (Number(shift) - Number(FRAC)));
    rem -= top << shift;
  }
}
const TWO_OVER_PI = 2 / Math.PI;
const HI_LIMIT = 1048576; // 2^20

/** pi/2 as a double-double. */
const PIO2_HI = PIO2[0]! + PIO2[1]!;
const PIO2_LO = PIO2[1]! - (PIO2_HI - PIO2[0]!) + PIO2[2]!;

/**
 * x = k*pi/2 + r with |r| <= ~pi/4, r as a double-double in (rHi, rLo);
 * returns k mod 4.
 */
function reduce(x: number): number {
  if (Math.abs(x) <= 0.7853981633974483) {
    rHi = x;
    rLo = 0;
    return 0;
  }
  const k = Math.round(x * TWO_OVER_PI);
  // t = x - k*PIO2[0] is exact (k*PIO2[0] is exact and close to x).
  const t = x - k * PIO2[0]!;
  if (k === 1 || k === -1 || k === 2 || k === -2) {
    // The usual case (|x| <= 5pi/4): k*PIO2[i] exact, one two-sum.
    const p1 = k * PIO2[1]!;
    const h = t - p1;
    const bb = h - t;
    const e = t - (h - bb) + (-p1 - bb) - k * PIO2[2]! - k * PIO2[3]!;
    rHi = h + e;
    rLo = e - (rHi - h);
    return (k + 4) % 4;
  }
  twoProd(k, PIO2[1]!);
  addDD(t, 0, -rHi, -rLo);
  const ah = rHi;
  const al = rLo;
  twoProd(k, PIO2[2]!);
  addDD(ah, al, -rHi, -(rLo + k * PIO2[3]!));
  return ((k % 4) + 4) % 4;
}

/*
 * The kernels evaluate the Taylor series in Horner form: the small high
 * order terms in plain doubles (their rounding errors stay below 2^-70 of
 * the result for |r| <= pi/4), the leading ones in double-double.
 */

/** sin(r) for the reduced (r, rl) into (rHi, rLo): r * sum (-1)^n z^n / (2n+1)!, z = r^2. */
function sinKernel(r: number, rl: number): void {
  mulDD(r, rl, r, rl);
  const zh = rHi;
  const zl = rLo;
  let t = INV_FACT_HI[23]!;
  for (let n = 10; n >= 4; n--) t = INV_FACT_HI[2 * n + 1]! - zh * t;
  let ah = t;
  let al = 0;
  for (let n = 3; n >= 0; n--) {
    mulDD(ah, al, zh, zl);
    addDD(INV_FACT_HI[2 * n + 1]!, INV_FACT_LO[2 * n + 1]!, -rHi, -rLo);
    ah = rHi;
    al = rLo;
  }
  mulDD(ah, al, r, rl);
}

/** cos(r) for the reduced (r, rl) into (rHi, rLo): sum (-1)^n z^n / (2n)!, z = r^2. */
function cosKernel(r: number, rl: number): void {
  mulDD(r, rl, r, rl);
  const zh = rHi;
  const zl = rLo;
  let t = INV_FACT_HI[24]!;
  for (let n = 11; n >= 5; n--) t = INV_FACT_HI[2 * n]! - zh * t;
  let ah = t;
  let al = 0;
  for (let n = 4; n >= 0; n--) {
    mulDD(ah, al, zh, zl);
    addDD(INV_FACT_HI[2 * n]!, INV_FACT_LO[2 * n]!, -rHi, -rLo);
    ah = rHi;
    al = rLo;
  }
  rHi = ah;
  rLo = al;
}

/** sin(x) as a double-double in (rHi, rLo). */
function sinDD(x: number): void {
  const q = reduce(x);
  const r = rHi;
  const rl = rLo;
  if (q === 0 || q === 2) sinKernel(r, rl);
  else cosKernel(r, rl);
  if (q >= 2) {
    rHi = -rHi;
    rLo = -rLo;
  }
}

/** cos(x) as a double-double in (rHi, rLo). */
function cosDD(x: number): void {
  const q = reduce(x);
  const r = rHi;
  const rl = rLo;
  if (q === 0 || q === 2) cosKernel(r, rl);
  else sinKernel(r, rl);
  if (q === 1 || q === 2) {
    rHi = -rHi;
    rLo = -rLo;
  }
}

// ---------------------------------------------------------------------------
// Fast paths (Ziv's strategy): an evaluation around the nearest multiple of
// 1/64, with tabulated sin and cos there, accurate to about 2^-60 relative;
// when that is not enough to know the rounding (the two ends of the error
// interval round differently, ~2% of the arguments), the slow path above.

const TABLE = 52; // a = i/64 for i = 0..51 covers |r| <= pi/4 (plus reduction slack)
const SIN_A_HI = new Float64Array(TABLE);
const SIN_A_LO = new Float64Array(TABLE);
const COS_A_HI = new Float64Array(TABLE);
const COS_A_LO = new Float64Array(TABLE);
for (let i = 0; i < TABLE; i++) {
  sinKernel(i / 64, 0);
  SIN_A_HI[i] = rHi;
  SIN_A_LO[i] = rLo;
  cosKernel(i / 64, 0);
  COS_A_HI[i] = rHi;
  COS_A_LO[i] = rLo;
}

const REL_EPS = 2 ** -59;

/** The fast path's result: fHi + fLo within fEps of the true value. */
let fHi = 0;
let fLo = 0;
let fEps = 0;

/**
 * sin (or, `cos`, cos) of the reduced argument r + rl, |r| <= ~pi/4, into
 * (fHi, fLo, fEps). With r = ±(a + b), a = i/64, |b| <= 1/128:
 *   sin(a+b) = Sa + Ca*b + Sa*(cos b - 1) + Ca*(sin b - b)
 *   cos(a+b) = Ca - Sa*b + Ca*(cos b - 1) - Sa*(sin b - b)
 * the leading products exact (Dekker), the small corrections in doubles.
 */
function fastKernel(r: number, rl: number, cos: boolean): void {
  const neg = r < 0;
  const ar = neg ? -r : r;
  const arl = neg ? -rl : rl;
  const i = Math.round(ar * 64);
  const b = ar - i / 64; // exact
  const z = b * b;
  const sb = b * z * (-1 / 6 + z * (1 / 120 - z / 5040)); // sin b - b
  const cb = z * (-0.5 + z * (1 / 24 - z / 720)); // cos b - 1
  const sh = SIN_A_HI[i]!;
  const sl = SIN_A_LO[i]!;
  const ch = COS_A_HI[i]!;
  const cl = COS_A_LO[i]!;
  let h: number;
  let lo: number;
  if (!cos) {
    twoProd(ch, b);
    h = sh + rHi;
    const bb = h - sh;
    const e = sh - (h - bb) + (rHi - bb);
    lo = e + rLo + sl + cl * b + sh * cb + ch * (sb + arl);
    if (neg) {
      h = -h;
      lo = -lo;
    }
  } else {
    twoProd(sh, b);
    h = ch - rHi;
    const bb = h - ch;
    const e = ch - (h - bb) + (-rHi - bb);
    lo = e - rLo + cl - sl * b + ch * cb - sh * (sb + arl);
  }
  fHi = h;
  fLo = lo;
  fEps = Math.abs(h) * REL_EPS;
}

/** The fast result rounded, or NaN when the error interval straddles a rounding boundary. */
function fastRounded(): number {
  const a = fHi + (fLo + fEps);
  return a === fHi + (fLo - fEps) ? a : NaN;
}

/** sin (cos) of x into (fHi, fLo, fEps); false beyond the reduction's range. */
function fastSinCos(x: number, cos: boolean): void {
  const q = reduce(x);
  const r = rHi;
  const rl = rLo;
  // sin: q=0 sin r, 1 cos r, 2 -sin r, 3 -cos r; cos: q=0 cos r, 1 -sin r, 2 -cos r, 3 sin r.
  const useCos = cos ? q === 0 || q === 2 : q === 1 || q === 3;
  fastKernel(r, rl, useCos);
  if (cos ? q === 1 || q === 2 : q >= 2) {
    fHi = -fHi;
    fLo = -fLo;
  }
}

/** sin(x), correctly rounded; odd by construction (sin(-x) is exactly -sin(x), as in glibc). */
export function sinR(x: number): number {
  if (x < 0) return -sinR(-x);
  if (!(Math.abs(x) < HI_LIMIT)) return Math.sin(x);
  if (Math.abs(x) < 1.4901161193847656e-8) return x; // 2^-26: x - x^3/6 rounds to x
  fastSinCos(x, false);
  const v = fastRounded();
  if (v === v) return v;
  sinDD(x);
  return rHi + rLo;
}

/** cos(x), correctly rounded; even by construction. */
export function cosR(x: number): number {
  if (x < 0) x = -x;
  if (!(Math.abs(x) < HI_LIMIT)) return Math.cos(x);
  if (Math.abs(x) < 7.450580596923828e-9) return 1; // 2^-27: 1 - x^2/2 rounds to 1
  fastSinCos(x, true);
  const v = fastRounded();
  if (v === v) return v;
  cosDD(x);
  return rHi + rLo;
}

/**
 * asin of (xh + xl), 0 <= x <= ~0.5, into (fHi, fLo, fEps): one Newton step
 * from Math.asin (within an ulp): y = y0 + (x - sin y0) / cos y0.
 * `slow` evaluates sin y0 in double-double instead of the fast path.
 */
function asinSmall(xh: number, xl: number, slow: boolean): void {
  const y0 = Math.asin(xh);
  if (y0 === 0) {
    fHi = xh;
    fLo = xl;
    fEps = 0;
    return;
  }
  let s: number;
  let sl: number;
  let eps: number;
  if (slow) {
    sinDD(y0);
    s = rHi;
    sl = rLo;
    eps = 0;
  } else {
    fastSinCos(y0, false);
    s = fHi;
    sl = fLo;
    eps = fEps;
  }
  const c = Math.cos(y0);
  const corr = (xh - s - sl + xl) / c;
  const h = y0 + corr;
  fLo = corr - (h - y0);
  fHi = h;
  fEps = (eps / c) * 1.01 + Math.abs(corr) * 2 ** -50;
}

/** asin of |x| <= 1 (x >= 0) into (fHi, fLo, fEps), by the fast or the slow path. */
function asinPos(a: number, slow: boolean): void {
  if (a <= 0.5) {
    asinSmall(a, 0, slow);
    return;
  }
  // asin(a) = pi/2 - 2*asin(sqrt((1-a)/2)); (1-a)/2 is exact.
  const w = (1 - a) / 2;
  const s = Math.sqrt(w);
  twoProd(s, s);
  const sl = s === 0 ? 0 : (w - rHi - rLo) / (2 * s);
  asinSmall(s, sl, slow);
  const eps = 2 * fEps;
  addDD(PIO2_HI, PIO2_LO, -2 * fHi, -2 * fLo);
  fHi = rHi;
  fLo = rLo;
  fEps = eps + Math.abs(rHi) * 2 ** -100;
}

/**
 * asin(x) - x for 0 < x <= 2^-4 by its series (truncation error below
 * 2^-70 x, rounding errors below 2^-49 of the result), for the common small
 * arguments (distances up to ~800 km).
 */
function asinSeriesTail(x: number): number {
  const z = x * x;
  return (
    x *
    z *
    (1 / 6 +
      z * (3 / 40 + z * (5 / 112 + z * (35 / 1152 + z * (63 / 2816 + z * (231 / 13312 + z * (143 / 10240 + (z * 6435) / 557056)))))))
  );
}

export function asinR(x: number): number {
  if (!(x >= -1 && x <= 1)) return NaN;
  const neg = x < 0;
  const a = Math.abs(x);
  if (a < 1.4901161193847656e-8) return x; // 2^-26: x + x^3/6 rounds to x
  if (a <= 0.0625) {
    const c = asinSeriesTail(a);
    fHi = a + c;
    fLo = c - (fHi - a);
    fEps = c * 2 ** -49 + fHi * 2 ** -70;
  } else asinPos(a, false);
  let v = fastRounded();
  if (v !== v) {
    asinPos(a, true);
    v = fHi + fLo;
  }
  return neg ? -v : v;
}
