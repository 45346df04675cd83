/**
 * Detached watchdog of a run-owned cluster: when the owning process dies (Ctrl-C, crash, even
 * kill -9, which no exit handler sees) it removes the cluster. Exits on its own once the
 * cluster's state file is gone (a normal `down`).
 *
 * argv: <cluster dir> <owner pid>
 */
import { existsSync } from 'node:fs';
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

const timer = setInterval(() => {
  if (!dir || !existsSync(path.join(dir, 'cluster.json'))) {
    clearInterval(timer);
    return;
  }
  if (ownerAlive()) return;
  clearInterval(timer);
  void Cluster.open(dir)
    .then((c) => c.down())
    .catch(() => {});
}, 500);
