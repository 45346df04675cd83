/**
 * Bounds how far V8 lets the main heap grow past what is live. Under a high allocation rate (a
 * capture decoded at full speed: tens of thousands of messages a second) V8 lets its old
 * generation grow to about twice the live data before collecting it, the largest part of RSS
 * beyond what is held. Issue 11 bounds peak RSS, so watch (a long-running process whose memory
 * should follow what it holds), `spec`/`model` (which hold a window of a capture's compact records)
 * and `report` on inputs of 512 MiB and more set the growth factor to 1.1 (V8's `--heap-growing-percent`, read at each collection, so it
 * applies when set at run time). On the 1.1 GB bench pcap: watch --replay at full speed peaks at
 * 223–225 MiB instead of 320–334 for 26 s of CPU instead of 19 (docs/watch.md); spec and model
 * figures are in docs/report.md.
 *
 * The emulator bounds the young generation instead (boundYoungGeneration below): its ramp-up makes
 * thousands of long-lived objects at once and V8 answers by doubling the nursery for good.
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

let youngApplied = false;

/**
 * Keeps V8's young generation at the size it starts with. V8 doubles the semi-spaces (16 to 32 MiB
 * of new space in Node 20) once scavenges find many survivors, which an emulator's ramp-up does
 * (thousands of sockets, channels and services made at once, all long-lived): ~19 MiB of RSS the
 * process never gives back, more than 60 emulated OVS agents hold. Its steady state allocates
 * little (a few hundred messages a second), so the larger nursery buys nothing. Measured with 100
 * hypervisors of the neutron bench scenario: RSS growth over the run 30.4 -> 11.2 MiB, the heap's
 * live size unchanged. (For `spec` on the 2.2 GB bench capture it buys 7 MiB: not applied there.)
 *
 * V8 reads `--semi-space-growth-factor` each time it would grow the new space, so setting it at
 * run time applies. Process-wide, once.
 */
export function boundYoungGeneration(): void {
  if (youngApplied) return;
  youngApplied = true;
  setFlagsFromString('--semi-space-growth-factor=1');
}
