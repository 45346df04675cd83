/**
 * A 52-bit key of an id string (`_msg_id`, `_unique_id`) from two different 32-bit hashes
 * (FNV-1a, and a multiply-xorshift one), for sets and maps that must not keep the ids themselves
 * (the spec's folded publishes, the background's reply owners). An integer below 2⁵³: exact as a
 * number and as a Map key; two ids collide about once in 10⁴ at 10⁶ ids.
 */
export function idKey52(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    a = Math.imul(a ^ ch, 0x01000193);
    b = Math.imul(b ^ ch, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  return (a >>> 0) * 2 ** 20 + (b >>> 12);
}
