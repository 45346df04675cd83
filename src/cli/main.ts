/**
 * rpcscope command line. Each command lives in its own file under src/cli/ and exports
 * `register(program)`; this file only wires them together and prints errors uniformly.
 */
import { Command } from '@commander-js/extra-typings';
import { isRpcscopeError } from '../errors.ts';
import { commands } from './commands.ts';

const program = new Command('rpcscope')
  .description('Measure, emulate and break the OpenStack control plane (oslo.messaging RPC over RabbitMQ)')
  .version('0.1.0')
  .showHelpAfterError();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isRpcscopeError(e)) {
    process.stderr.write(`rpcscope: ${e.where()}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
