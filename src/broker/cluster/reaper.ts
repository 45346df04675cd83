/**
 * Detached watchdog of a run-owned cluster: when the owning process dies (Ctrl-C, crash, even
 * kill -9, which no exit handler sees) it removes the cluster. Exits on its own once the
 * cluster's state file is gone (a normal `down`).
 *
 * argv: <cluster dir> <owner pid>
 */
import { existsSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import { Cluster } from '../cluster.ts';

const [dir, ownerArg] = process.argv.slice(2);
const owner = Number(ownerArg);

function ownerAlive(): boolean {
  try {
    process.kill(owner, 0);
    return true;
  } catch {
    return false;
  }
}

const started = Date.now();
let seen = false;
const timer = setInterval(() => {
  const present = dir !== undefined && existsSync(path.join(dir, 'cluster.json'));
  // started just before the state file is written: wait for it to appear, leave once it is gone
  if (present) seen = true;
  else if (seen || Date.now() - started > 30_000) {
    clearInterval(timer);
    return;
  } else return;
  if (ownerAlive()) return;
  clearInterval(timer);
  void Cluster.open(dir)
    .then((c) => c.down())
    // the run's own temporary folder goes too once empty (rmdir refuses a non-empty one)
    .then(() => rmdir(dir))
    .catch(() => {});
}, 500);
