/**
 * `rpcscope demo`: the main job on an embedded default. For now: the report of the bundled
 * capture of a real nova 26 (Zed) booting one server (test/fixtures/nova-zed/boot.pcap), found
 * relative to the package, not the working directory.
 */
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from '@commander-js/extra-typings';
import { RpcscopeError } from '../errors.ts';
import { printReport, reportFiles } from './report.ts';

/** The bundled real-nova boot capture (package root = two levels above src/cli/). */
export function bundledBootCapture(): string {
  return fileURLToPath(new URL('../../test/fixtures/nova-zed/boot.pcap', import.meta.url));
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the report of a bundled capture of a real nova (Zed) booting one server')
    .option('--json', 'print one JSON object instead of tables')
    .action(async (o) => {
      const path = bundledBootCapture();
      try {
        await access(path);
      } catch (e) {
        throw new RpcscopeError(
          'RPCSCOPE_INPUT_NOT_FOUND',
          'the bundled capture is missing from this installation; reinstall rpcscope from its repository',
          {
            cause: e,
            context: { input: path },
          },
        );
      }
      if (o.json !== true)
        process.stdout.write(
          'rpcscope demo: real nova 26.2.2 (Zed) + RabbitMQ 3.10, `openstack server create vm1`, recorded with tcpdump -i lo\n\n',
        );
      printReport(await reportFiles([path], 'demo'), o.json === true);
    });
}
