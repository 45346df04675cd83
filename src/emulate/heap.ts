/**
 * Keeps V8's young generation at the size it starts with. V8 doubles the semi-spaces (16 to 32 MiB
 * of new space in Node 20) once scavenges find many survivors, which an emulator's ramp-up does
 * (thousands of sockets, channels and services made at once, all long-lived): ~19 MiB of RSS the
 * process never gives back, more than 60 emulated OVS agents hold. Its steady state allocates
 * little (a few hundred messages a second), so the larger nursery buys nothing. Measured with 100
 * hypervisors of the neutron bench scenario: RSS growth over the run 30.4 → 11.2 MiB, the heap's
 * live size unchanged.
 *
 * V8 reads `--semi-space-growth-factor` each time it would grow the new space, so setting it at
 * run time applies. Process-wide, as watch's heap bound (src/util/heap.ts).
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

/** Stops the young generation from growing (once per process). */
export function boundYoungGeneration(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--semi-space-growth-factor=1');
}
