/**
 * Bounds how far V8 lets the main heap grow past what is live. Under watch's allocation rate (a
 * full-speed replay decodes tens of thousands of messages a second) V8 lets its old generation
 * grow to about twice the live data before collecting it: 90 MB committed for 40 MB live on the
 * 1.1 GB bench pcap, the largest part of watch's RSS. Watch is a long-running process whose memory should
 * follow what it holds, so the growth factor is set to 1.1 (V8's `--heap-growing-percent`, read
 * at each collection, so it applies when set at run time). On that replay at full speed: peak
 * RSS 223–225 MiB instead of 320–334, for 26 s of CPU instead of 19 (docs/watch.md).
 */
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth past the live size, percent (V8's own factor is 1.1× to 4×). */
export const HEAP_GROWING_PERCENT = 10;

let applied = false;

/** Sets V8's heap growing factor for the whole process (once). */
export function boundHeapGrowth(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
