// Generates ECMAScript Number.prototype.toString expectations for CanonicalJSON number tests.
// Each line: 16 hex digits of the IEEE 754 bit pattern, a space, String(x).
// Deterministic (xorshift PRNG with a fixed seed), so the file can be regenerated exactly.
const buf = new DataView(new ArrayBuffer(8));
let s0 = 0x9E3779B97F4A7C15n, s1 = 0xBF58476D1CE4E5B9n;
const M = (1n << 64n) - 1n;
function next() { // xorshift128+
  let x = s0, y = s1; s0 = y; x ^= (x << 23n) & M; s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n); return (s1 + y) & M;
}
const out = [], seen = new Set();
function emit(x) {
  if (!Number.isFinite(x)) return;
  buf.setFloat64(0, x);
  const line = buf.getBigUint64(0).toString(16).padStart(16, '0') + ' ' + String(x);
  if (!seen.has(line)) { seen.add(line); out.push(line); }
}
// Edge cases.
[0, -0, 1, -1, 0.1, 0.5, 1e21, 1e-6, 1e-7, 123e18, 0.000001, 5e-324, -5e-324, 1.7976931348623157e308,
 -1.7976931348623157e308, 333333333.3333332, 333333333.33333329, 2.2250738585072014e-308, 2.225073858507201e-308,
 9007199254740991, 9007199254740992, 9007199254740993, 1e20, 1e22, 1e23, 123456789012345680000, 999999999999999900000,
 4.35, 0.3, 0.1+0.2, 1/3, 2/3, 100, 1e16, 1e17, 1.5e-6, 9.999999999999999e-7, 1e-5, 0.0001, 1e300, 1e-300,
 4.940656458412e-324, 2**53, 2**63, 2**64, 2**-1074, 2**-1022, 295147905179352830000, 1.2e21, 1.2e-7].forEach(emit);
for (let e = -330; e <= 310; e++) { emit(Number('1e' + e)); emit(Number('9.999999999999999e' + e)); }
for (let i = 0; i < 1200; i++) { // random bit patterns
  buf.setBigUint64(0, next()); emit(buf.getFloat64(0));
}
for (let i = 0; i < 400; i++) { // random "human" decimals with few digits at all scales
  const digits = Number(next() % 100000n); const exp = Number(next() % 60n) - 30;
  emit(Number(digits + 'e' + exp)); emit(-Number(digits + 'e' + exp) / 7);
}
process.stdout.write(out.join('\n') + '\n');
