#!/usr/bin/env node
/**
 * rpcscope command line. Each command lives in its own file under src/cli/ and exports
 * `register(program)`; this file only wires them together and turns errors into the catalogue's
 * line (`rpcscope: CODE: where: message`) and exit status (src/errors.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { EXIT, exitStatusTable } from '../errors.ts';
import { commands } from './commands.ts';
import { failure } from './fail.ts';

// package.json sits two levels up both in the checkout (src/cli/) and in the package (dist/cli/)
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('rpcscope')
  .description('Measure, emulate and break the OpenStack control plane (oslo.messaging RPC over RabbitMQ)')
  .version(version)
  .showHelpAfterError()
  // commander's own usage errors (unknown option, missing argument) end with the usage status
  .exitOverride((e) => {
    throw e;
  })
  .addHelpText(
    'after',
    `\nExit status (every command; codes in docs/errors.md; RPCSCOPE_DEBUG=1 prints stacks):\n${exitStatusTable()}\n`,
  );

/**
 * The command this run asks for: the first word (the root has no option taking a value), or the
 * word after `help`. Only that command's module is loaded; the others are listed by name.
 */
function requested(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

try {
  const wanted = requested(process.argv.slice(2));
  for (const c of commands) {
    if (c.name === wanted) {
      (await c.load()).register(program);
      program.commands.find((x) => x.name() === c.name)?.description(c.description);
    } else {
      program.command(c.name).description(c.description);
    }
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander has printed its message already; help and version are exit 0
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = failure(e, process.env.RPCSCOPE_DEBUG === '1', (l) => process.stderr.write(l));
  }
}
