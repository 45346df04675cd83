/**
 * The one Ctrl-C policy of every command: the first SIGINT or SIGTERM asks the command to stop
 * gracefully (flush, restore broker settings, remove what it created, then print what it has);
 * a second one, while that is under way, exits at once with status 130.
 */

export interface StopHandle {
  /** Aborted on the first signal (pass it to anything that takes an AbortSignal). */
  readonly signal: AbortSignal;
  /** Resolves with the signal's name on the first signal; never rejects. */
  readonly stopped: Promise<NodeJS.Signals>;
  /** Removes the handlers (Node's default behaviour returns). Idempotent. */
  dispose(): void;
}

/** Handlers of every live StopHandle: one pair of process listeners serves them all. */
const live = new Set<(sig: NodeJS.Signals) => void>();
let stopping = false;

function dispatch(sig: NodeJS.Signals): void {
  if (stopping) {
    // the graceful stop is taking too long for the user: give up on it
    process.stderr.write(`\nrpcscope: RPCSCOPE_INTERRUPTED: second ${sig}, exiting without cleaning up\n`);
    process.exit(130);
  }
  stopping = true;
  for (const h of [...live]) h(sig);
}

/**
 * Installs the policy for the life of a command (or of one phase of it): `onStop` runs once, on
 * the first signal. Nested handles (a command that starts a cluster) all hear the first signal.
 */
export function onStopSignal(onStop: (sig: NodeJS.Signals) => void = () => {}): StopHandle {
  const controller = new AbortController();
  let resolve!: (s: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => {
    resolve = r;
  });
  const handler = (sig: NodeJS.Signals) => {
    live.delete(handler);
    controller.abort(sig);
    resolve(sig);
    onStop(sig);
  };
  if (live.size === 0 && !stopping) {
    process.on('SIGINT', dispatch);
    process.on('SIGTERM', dispatch);
  }
  live.add(handler);
  return {
    signal: controller.signal,
    stopped,
    dispose() {
      live.delete(handler);
      // after a first signal the listeners stay: a second one must still force the exit
      if (live.size === 0 && !stopping) {
        process.off('SIGINT', dispatch);
        process.off('SIGTERM', dispatch);
      }
    },
  };
}
