/**
 * `rpcscope demo`: the main job on an embedded default, in the order an operator would use it.
 *   1. measure: the report of the bundled capture of a real nova 26 (Zed) booting one server;
 *   2. specify: the RPC spec of that boot, written as HTML (sequence diagram) and Markdown;
 *   3. emulate: when a broker answers (127.0.0.1:5672 by default), a model of the bundled captures
 *      replayed by emulated nova services in a vhost of its own, removed afterwards.
 * The fixtures are found relative to the package, not the working directory.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '@commander-js/extra-typings';
import amqplib from 'amqplib';
import { stringify } from 'yaml';
import { HEADLINE_BACKGROUND_CAPTURE } from '../analyse/headline.ts';
import { buildSpec } from '../analyse/spec.ts';
import { loadSpecInput } from '../analyse/spec-load.ts';
import { exec } from '../broker/cluster/exec.ts';
import { ManagementClient } from '../broker/management.ts';
import { specResolver } from '../correlate/spec-services.ts';
import { runEmulation } from '../emulate/emulator.ts';
import { modelFromSpec, wireFacts } from '../emulate/model.ts';
import { parseScenario } from '../emulate/scenario.ts';
import { RpcscopeError } from '../errors.ts';
import { renderHtml } from '../render/emulation-html.ts';
import { renderSummary } from '../render/emulation-text.ts';
import { renderSpecHtml } from '../render/spec-html.ts';
import { renderSpecMarkdown } from '../render/spec-md.ts';
import { redactUrl } from '../util/url.ts';
import { countOption, durationOption, hiddenAlias, jsonOption, outputOption } from './options.ts';
import { writeOutput } from './output.ts';
import { printReport, reportFiles } from './report.ts';

const FIXTURES = new URL('../../data/nova-zed/', import.meta.url);
const SCENARIOS = ['idle', 'boot', 'stop', 'start', 'delete'] as const;

/** The bundled real-nova boot capture (package root = two levels above src/cli/). */
export function bundledBootCapture(): string {
  return fileURLToPath(new URL('boot.pcap', FIXTURES));
}

function bundledTracingLogs(): string[] {
  return SCENARIOS.map((s) => fileURLToPath(new URL(`${s}.tracing.json`, FIXTURES)));
}

/** True when something accepts TCP connections at host:port within the timeout. */
function answers(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function specStep(outDir: string): Promise<void> {
  const loaded = await loadSpecInput([fileURLToPath(new URL('boot.tracing.json', FIXTURES))]);
  const spec = buildSpec(loaded, { resolve: specResolver(loaded) });
  await writeOutput(join(outDir, 'spec.html'), renderSpecHtml(spec));
  await writeOutput(join(outDir, 'spec.md'), renderSpecMarkdown(spec));
  say('\n== 2. specify: what one `openstack server create` sends (rpcscope spec)');
  for (const op of spec.operations) {
    const kinds = new Map<string, number>();
    for (const r of op.rpc) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + r.count.median);
    const parts = [...kinds].map(([k, n]) => `${n} ${k}${k === 'call' ? ` (+${n} replies)` : ''}`).join(', ');
    say(`  ${op.alias ?? op.name} (${op.name}): ${op.messages.median} messages: ${parts}`);
  }
  // The boot capture is 10 s long, too short for periods of up to 60 s: the headline figure is
  // quoted from the capture it is defined on (src/analyse/headline.ts), as the README does.
  const idleFile = fileURLToPath(new URL(basename(HEADLINE_BACKGROUND_CAPTURE), FIXTURES));
  const idle = await loadSpecInput([idleFile]);
  const bg = buildSpec(idle, { resolve: specResolver(idle) }).summary.perHypervisorPerMinute;
  if (bg !== undefined)
    say(
      `  background of one hypervisor: ${bg.toFixed(1)} messages/minute (measured on ${basename(HEADLINE_BACKGROUND_CAPTURE)}, an idle nova-compute)`,
    );
  say(`  sequence diagram: ${relative(process.cwd(), join(outDir, 'spec.html'))} (open in a browser)`);
}

/** The vhost the demo's emulation runs in, and how it was made (so it is removed the same way). */
interface DemoVhost {
  readonly name: string;
  readonly how: 'the management API' | 'rabbitmqctl';
  /** For broker sampling during the run; null when the management API did not answer. */
  readonly managementUrl: string | null;
  remove(): Promise<void>;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function reason(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e);
}

/** True when an AMQP login into `url`'s vhost succeeds (the vhost exists on that broker). */
async function amqpLogin(url: string): Promise<true | string> {
  try {
    const c = await amqplib.connect(url, { timeout: 5000 });
    await c.close();
    return true;
  } catch (e) {
    return reason(e);
  }
}

/**
 * A vhost of the demo's own. amqplib cannot create vhosts, so: the management API when it answers;
 * otherwise, for a broker on this machine, `rabbitmqctl add_vhost` (what an operator would type;
 * it works as root or the rabbitmq user) checked by an AMQP login into the new vhost, since the
 * local node may not be the broker at --amqp. Enabling the management plugin is left to the
 * operator: the demo does not change a broker's plugins. When neither works the emulation step
 * is skipped with the reasons and the commands that fix it.
 */
async function demoVhost(amqpUrl: string, mgmtUrl: string): Promise<DemoVhost | { skipped: string[] }> {
  const u = new URL(amqpUrl);
  const user = decodeURIComponent(u.username) || 'guest';
  const name = `rpcscope-demo-${randomBytes(3).toString('hex')}`;
  const inVhost = new URL(amqpUrl);
  inVhost.pathname = `/${encodeURIComponent(name)}`;
  const mgmt = new ManagementClient({ url: mgmtUrl });
  let mgmtError: string;
  try {
    await mgmt.putVhost(name, { description: 'rpcscope demo (removed at the end)' });
    try {
      await mgmt.setPermissions(name, user);
    } catch (e) {
      await mgmt.deleteVhost(name).catch(() => undefined);
      throw e;
    }
    return {
      name,
      how: 'the management API',
      managementUrl: mgmtUrl,
      remove: () => mgmt.deleteVhost(name).catch(() => undefined),
    };
  } catch (e) {
    mgmtError = reason(e);
  }
  say(`  the management API at ${redactUrl(mgmtUrl)} did not create a vhost: ${mgmtError}`);
  let ctlError: string;
  if (!LOCAL_HOSTS.has(u.hostname)) {
    ctlError = `the broker ${u.hostname} is not on this machine, so rabbitmqctl cannot reach it`;
  } else {
    const ctl = (...args: string[]) =>
      exec('rabbitmqctl', ['-q', ...args], { timeoutMs: 30_000, allowFail: true });
    try {
      const add = await ctl('add_vhost', name);
      if (add.code !== 0) throw new Error(`rabbitmqctl add_vhost: ${(add.stderr || add.stdout).trim()}`);
      const remove = async () => {
        await ctl('delete_vhost', name).catch(() => undefined);
      };
      const perm = await ctl('set_permissions', '-p', name, user, '.*', '.*', '.*');
      const login =
        perm.code === 0 ? await amqpLogin(inVhost.toString()) : (perm.stderr || perm.stdout).trim();
      if (login !== true) {
        await remove();
        throw new Error(`the vhost made by rabbitmqctl is not usable at ${redactUrl(amqpUrl)}: ${login}`);
      }
      return { name, how: 'rabbitmqctl', managementUrl: null, remove };
    } catch (e) {
      ctlError = reason(e);
    }
  }
  return {
    skipped: [
      `rabbitmqctl did not either: ${ctlError}`,
      'emulation skipped: it needs a vhost of its own, and amqplib cannot create one. To run it, either',
      '  enable the management plugin: rabbitmq-plugins enable rabbitmq_management (or pass --management URL),',
      "  or run the demo on the broker's machine as root or the rabbitmq user, so that rabbitmqctl works.",
    ],
  };
}

async function emulateStep(
  outDir: string,
  amqp: string,
  mgmtUrl: string,
  computes: number,
  durationS: number,
): Promise<void> {
  say('\n== 3. emulate: the model of these captures on a real RabbitMQ (rpcscope model + emulate)');
  const u = new URL(amqp);
  if (!(await answers(u.hostname, Number(u.port || 5672)))) {
    say(`  no broker answers at ${redactUrl(amqp)}: emulation skipped.`);
    say('  Start RabbitMQ (`rabbitmq-server -detached`) or pass --amqp URL, and run `rpcscope demo` again.');
    return;
  }
  const place = await demoVhost(amqp, mgmtUrl);
  if ('skipped' in place) {
    for (const line of place.skipped) say(`  ${line}`);
    return;
  }
  const vhost = place.name;
  try {
    const files = bundledTracingLogs();
    // one load per file, as `rpcscope spec` does: the model is the spec of these files
    const loaded = await loadSpecInput(files);
    const spec = buildSpec(loaded, { resolve: specResolver(loaded) });
    const vhostUrl = new URL(amqp);
    vhostUrl.pathname = `/${encodeURIComponent(vhost)}`;
    // Periods ÷10 so that a 20 s demo shows what 200 s of a real cloud sends.
    const model = modelFromSpec(spec, {
      ...wireFacts(loaded.messages),
      computes,
      rates: { 'server create': 6 },
      defaultRatePerMinute: 3,
      speedup: 10,
      brokerUrl: vhostUrl.toString(),
      name: 'demo: nova-zed model',
    });
    const yamlPath = join(outDir, 'scenario.yaml');
    const text = stringify(model, { lineWidth: 0 });
    await writeOutput(yamlPath, text);
    const scenario = parseScenario(text, yamlPath);
    say(
      `  ${computes} emulated nova-computes + conductor, scheduler, api in vhost ${vhost} (created with ${place.how}); ${durationS} s, periods ÷10`,
    );
    if (place.managementUrl === null)
      say('  no management API: broker samples (queue depths, broker memory) are left out of this run');
    const result = await runEmulation(scenario, {
      amqpUrl: vhostUrl.toString(),
      // without the management API the emulation runs without broker samples (queues, memory)
      managementUrl: place.managementUrl,
      durationS,
      sampleIntervalS: 5,
      onEvent: (e) => {
        if (e.type === 'phase') process.stderr.write(`[demo] ${e.phase}\n`);
      },
    });
    say(renderSummary(result));
    await writeOutput(join(outDir, 'emulation.html'), renderHtml(result));
    say(`  plots over time: ${relative(process.cwd(), join(outDir, 'emulation.html'))}`);
  } finally {
    await place.remove();
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .addOption(jsonOption('print only the report of the bundled capture, as one JSON object'))
    .addOption(outputOption('directory for spec.html, spec.md and emulation.html').default('rpcscope-demo'))
    .addOption(hiddenAlias('--out <dir>', '--output'))
    .option('--offline', 'skip the emulation even when a broker answers')
    .option('--amqp <url>', 'broker for the emulation step', 'amqp://guest:guest@127.0.0.1:5672')
    .option('--management <url>', 'its management API', 'http://127.0.0.1:15672')
    .addOption(countOption('--computes <n>', 'emulated nova-computes').default(20))
    .addOption(durationOption('--duration <d>', 'steady state of the emulation').default(20))
    .action(async (o) => {
      const path = bundledBootCapture();
      try {
        await access(path);
      } catch (e) {
        throw new RpcscopeError(
          'RPCSCOPE_INPUT_NOT_FOUND',
          'the bundled capture is missing from this installation; reinstall rpcscope from its repository',
          { cause: e, context: { input: path } },
        );
      }
      if (o.json === true) {
        printReport(await reportFiles([path], 'demo'), true);
        return;
      }
      say(
        'rpcscope demo: real nova 26.2.2 (Zed) + RabbitMQ 3.10, `openstack server create vm1`, recorded with tcpdump -i lo',
      );
      say('\n== 1. measure: every message of the boot (rpcscope report)\n');
      printReport(await reportFiles([path], 'demo'), false);
      const outDir = o.out ?? o.output;
      await mkdir(outDir, { recursive: true });
      await specStep(outDir);
      if (o.offline === true) say('\n== 3. emulate: skipped (--offline)');
      else await emulateStep(outDir, o.amqp, o.management, o.computes, o.duration);
    });
}
