/**
 * Emulated nova-computes against the REAL nova-conductor of scripts/rig (needs the rig up:
 * RPCSCOPE_NOVA_RIG=<its RIG_VAR>, e.g. from scripts/ci-nova.sh after `scripts/rig/up.sh`). Five
 * computes make their Service rows and compute nodes through the conductor, heartbeat for 25 s,
 * and nova-api must list them up with heartbeats recorded; every conductor call must be answered
 * without a remote error; the rows are destroyed through the conductor after.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runEmulation } from './emulator.ts';
import { EMU_COMPUTE_PREFIX, emulatedComputeHosts, forgetNovaServices, novaComputeScenario } from './nova.ts';
import { ensureComputes, NovaConductorClient } from './nova-conductor.ts';

const RIG_VAR = process.env.RPCSCOPE_NOVA_RIG;
const API = `http://127.0.0.1:${process.env.RIG_API_PORT ?? 18774}/v2.1`;
const RIG_HOST = process.env.RIG_HOST ?? 'rpcscope-compute-1';
const N = 5;

interface ApiService {
  host: string;
  state: string;
  updated_at: string | null;
}

async function computes(): Promise<ApiService[]> {
  const r = await fetch(`${API}/os-services?binary=nova-compute`, {
    headers: { 'X-Auth-Token': 'admin:admin', 'X-OpenStack-Nova-API-Version': '2.79' },
    signal: AbortSignal.timeout(20_000),
  });
  assert.ok(r.ok, `GET os-services: HTTP ${r.status}`);
  return ((await r.json()) as { services: ApiService[] }).services;
}

test('emulated computes heartbeat through the real nova-conductor and nova-api lists them up', async (t) => {
  if (RIG_VAR === undefined) {
    t.skip('needs the real-nova rig: RPCSCOPE_NOVA_RIG=<RIG_VAR> (scripts/ci-nova.sh)');
    return;
  }
  const pass = readFileSync(join(RIG_VAR, 'state', 'amqp.secret'), 'utf8').trim();
  const vhost = encodeURIComponent(process.env.RIG_VHOST ?? 'rpcscope-nova-rig');
  const user = encodeURIComponent(process.env.RIG_AMQP_USER ?? 'rpcscope-nova');
  const url = `amqp://${user}:${pass}@127.0.0.1:5672/${vhost}`;
  const client = await NovaConductorClient.connect(url);
  const hosts = emulatedComputeHosts(N);
  try {
    const template = (await client.computeNodes(RIG_HOST))[0];
    assert.ok(template !== undefined, `the rig's ${RIG_HOST} has a compute node`);
    const made = await ensureComputes(client, hosts, { nodeTemplate: template });
    assert.equal(made.rows.length, N);
    for (const r of made.rows) assert.equal(r.version, 64, `${r.host}: Zed's SERVICE_VERSION in its row`);
    const startedAt = Date.now();
    const r = await runEmulation(novaComputeScenario(url, N), { durationS: 25, managementUrl: null });
    const save = r.methods['conductor.Service.save'];
    assert.ok(save !== undefined && save.calls >= N * 2, `Service.save sent: ${save?.calls}`);
    for (const m of Object.values(r.methods).filter((x) => x.key.startsWith('conductor.')))
      assert.deepEqual([m.key, m.ok, m.remoteErrors, m.timeouts], [m.key, m.calls, 0, 0]);
    const listed = (await computes()).filter((s) => s.host.startsWith(EMU_COMPUTE_PREFIX));
    assert.deepEqual(listed.map((s) => s.host).sort(), hosts);
    for (const s of listed) {
      assert.equal(s.state, 'up', s.host);
      // updated_at moves only when a Service.save reached the row (create leaves it null)
      assert.ok(s.updated_at !== null, `${s.host}: no heartbeat recorded`);
      assert.ok(Date.parse(`${s.updated_at}Z`) >= startedAt - 2000, `${s.host}: updated_at ${s.updated_at}`);
    }
  } finally {
    for (const h of hosts) {
      const row = await client.getService(h).catch(() => undefined);
      if (row !== undefined) await client.destroyService(row);
    }
    forgetNovaServices();
    await client.close();
  }
  const left = (await computes()).filter((s) => s.host.startsWith(EMU_COMPUTE_PREFIX));
  assert.deepEqual(left, [], 'Service.destroy removed the emulated computes');
});
