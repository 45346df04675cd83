/**
 * How the command line ends on an error: one line `rpcscope: CODE: where: message` on stderr and
 * the code's exit status (src/errors.ts). An error that is not an RpcscopeError is a bug: one line
 * with RPCSCOPE_INTERNAL and status 1, the stack only with RPCSCOPE_DEBUG=1.
 */
import { type ExitStatus, exitStatus, isRpcscopeError } from '../errors.ts';

export function failure(e: unknown, debug: boolean, write: (line: string) => void): ExitStatus {
  const stack = debug && e instanceof Error && e.stack !== undefined ? `${e.stack}\n` : '';
  if (isRpcscopeError(e)) {
    write(`rpcscope: ${e.code}: ${e.where()}\n${stack}`);
    return e.exitStatus;
  }
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  const hint = debug ? '' : ' (a bug: rerun with RPCSCOPE_DEBUG=1 for the stack, and report it)';
  write(`rpcscope: RPCSCOPE_INTERNAL: ${message}${hint}\n${stack}`);
  return exitStatus('RPCSCOPE_INTERNAL');
}
