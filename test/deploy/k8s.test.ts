/**
 * deploy/k8s: every manifest validated against the Kubernetes API schemas (the OpenAPI schemas of
 * kubernetes-models and, for the ServiceMonitor, of the prometheus-operator CRD, compiled by ajv),
 * the wiring between them checked (Secret, volume, Service, ServiceMonitor, image), and the Jobs'
 * own shell scripts run for real against the local broker: four emulation shards with the broker
 * URL from RPCSCOPE_AMQP_URL only, then the merge.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { ManagementClient } from '../../src/broker/management.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'deploy', 'k8s');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** What a manifest needs of the objects it holds (the schema validation covers the rest). */
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
}

const MODELS: Record<string, { validate(this: void, data: unknown): void }> = {
  'batch/v1/Job': { validate: (d) => new Job(d as never).validate() },
  'apps/v1/Deployment': { validate: (d) => new Deployment(d as never).validate() },
  'v1/Service': { validate: (d) => new Service(d as never).validate() },
  'v1/Secret': { validate: (d) => new Secret(d as never).validate() },
  'v1/PersistentVolumeClaim': { validate: (d) => new PersistentVolumeClaim(d as never).validate() },
  'monitoring.coreos.com/v1/ServiceMonitor': { validate: (d) => new ServiceMonitor(d as never).validate() },
};

function validate(m: Manifest): void {
  const model = MODELS[`${m.apiVersion}/${m.kind}`];
  assert.ok(model !== undefined, `no schema for ${m.apiVersion} ${m.kind}`);
  model.validate(m);
}

function manifests(): { file: string; m: Manifest }[] {
  const out: { file: string; m: Manifest }[] = [];
  for (const file of readdirSync(K8S).filter((f) => f.endsWith('.yaml'))) {
    const docs = parseAllDocuments(readFileSync(join(K8S, file), 'utf8'));
    assert.ok(Array.isArray(docs) && docs.length > 0, `${file} holds manifests`);
    for (const d of docs) {
      assert.deepEqual(d.errors, [], `${file} is valid YAML`);
      out.push({ file, m: d.toJS() as Manifest });
    }
  }
  return out;
}

function one(kind: string, name: string): Manifest {
  const m = manifests().find((x) => x.m.kind === kind && x.m.metadata.name === name)?.m;
  assert.ok(m !== undefined, `${kind}/${name} in deploy/k8s`);
  return m;
}

function podSpec(m: Manifest): PodSpec {
  return (m.spec as { template: { spec: PodSpec } }).template.spec;
}

function env(c: Container, name: string): string {
  const v = c.env?.find((e) => e.name === name)?.value;
  assert.ok(v !== undefined, `${c.name}: env ${name}`);
  return v;
}

test('every manifest in deploy/k8s passes the Kubernetes schema of its kind', () => {
  const all = manifests();
  const kinds = new Set(all.map(({ m }) => `${m.apiVersion}/${m.kind}`));
  for (const k of Object.keys(MODELS)) assert.ok(kinds.has(k), `an example of ${k}`);
  for (const { file, m } of all)
    assert.doesNotThrow(() => validate(m), `${file}: ${m.kind}/${m.metadata.name}`);
});

test('the schemas catch a broken manifest', () => {
  const job = structuredClone(one('Job', 'rpcscope-emulate')) as Manifest & {
    spec: { completions: unknown };
  };
  job.spec.completions = 'four';
  assert.throws(() => validate(job), /completions must be integer/);
  const bare = structuredClone(one('Deployment', 'rpcscope-watch'));
  delete (bare.spec as { selector?: unknown }).selector;
  assert.throws(() => validate(bare), /selector/);
});

test('the workloads run the image of the Containerfile, with the broker password from the Secret only', () => {
  const secret = one('Secret', 'rpcscope-broker');
  assert.ok(secret.stringData?.url !== undefined, 'the Secret has the key "url"');
  const containerfile = readFileSync(join(ROOT, 'Containerfile'), 'utf8');
  assert.match(containerfile, /^FROM node:20-bookworm-slim\b/m);
  assert.match(containerfile, /npm install -g --omit=dev .*rpcscope\.tgz/);
  assert.match(containerfile, /^ENTRYPOINT \["rpcscope"\]$/m);
  for (const { file, m } of manifests().filter(({ m }) => m.kind === 'Job' || m.kind === 'Deployment')) {
    for (const c of podSpec(m).containers) {
      assert.equal(c.image, `rpcscope:${VERSION}`, `${file}: the image built from the Containerfile`);
      const line = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
      assert.doesNotMatch(line, /\bnpx\b/, `${file}: no npx (it would fetch from the registry)`);
      assert.doesNotMatch(line, /:\/\/[^\s/@]*:[^\s/@]*@/, `${file}: no credentials on the command line`);
      assert.doesNotMatch(line, /--amqp\b/, `${file}: the broker URL comes from the environment`);
      const url = c.env?.find((e) => e.name === 'RPCSCOPE_AMQP_URL');
      if (m.metadata.name !== 'rpcscope-merge')
        assert.deepEqual(url?.valueFrom?.secretKeyRef, { name: 'rpcscope-broker', key: 'url' }, file);
    }
  }
});

test('the Job shards match, its results volume is ReadWriteMany, the merge reads the same volume', () => {
  const job = one('Job', 'rpcscope-emulate');
  const spec = job.spec as { completionMode: string; completions: number; parallelism: number };
  assert.equal(spec.completionMode, 'Indexed');
  const [c] = podSpec(job).containers;
  assert.ok(c !== undefined);
  assert.equal(Number(env(c, 'SHARDS')), spec.completions, 'SHARDS = completions');
  const pvc = one('PersistentVolumeClaim', 'rpcscope-results');
  assert.deepEqual((pvc.spec as { accessModes: string[] }).accessModes, ['ReadWriteMany']);
  for (const name of ['rpcscope-emulate', 'rpcscope-merge']) {
    const vol = podSpec(one('Job', name)).volumes?.find((v) => v.persistentVolumeClaim !== undefined);
    assert.equal(vol?.persistentVolumeClaim?.claimName, 'rpcscope-results', name);
  }
});

test('watch: the Service selects the Deployment, the ServiceMonitor selects the Service and its port', () => {
  const deployment = one('Deployment', 'rpcscope-watch');
  const service = one('Service', 'rpcscope-watch');
  const monitor = one('ServiceMonitor', 'rpcscope-watch');
  const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } })
    .template.metadata.labels;
  const svc = service.spec as {
    selector: Record<string, string>;
    ports: { name: string; targetPort: string }[];
  };
  for (const [k, v] of Object.entries(svc.selector)) assert.equal(podLabels[k], v, `pod label ${k}`);
  const [c] = podSpec(deployment).containers;
  assert.ok(c !== undefined);
  assert.ok(c.args?.includes('watch'));
  const listen = c.args?.[(c.args?.indexOf('--http') ?? -2) + 1];
  const port = c.ports?.find((p) => p.name === svc.ports[0]?.targetPort);
  assert.equal(listen, `0.0.0.0:${port?.containerPort}`, 'watch listens on the named container port');
  const mon = monitor.spec as {
    selector: { matchLabels: Record<string, string> };
    endpoints: { port: string }[];
  };
  for (const [k, v] of Object.entries(mon.selector.matchLabels))
    assert.equal(service.metadata.labels?.[k], v, `service label ${k}`);
  assert.ok(
    svc.ports.some((p) => p.name === mon.endpoints[0]?.port),
    'the endpoint port is a Service port',
  );
});

/** Runs a container's `sh -c` script as the pod would, with the manifest's env and overrides. */
function runScript(c: Container, over: Record<string, string>, bin: string) {
  const vars: Record<string, string> = {};
  for (const e of c.env ?? []) if (e.value !== undefined) vars[e.name] = e.value;
  assert.equal(c.command?.join(' '), '/bin/sh -c');
  const script = c.args?.[0];
  assert.ok(script !== undefined);
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn('/bin/sh', ['-c', script], {
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, NO_COLOR: '1', ...vars, ...over },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    p.stderr.on('data', (d: Buffer) => {
      out += d;
    });
    p.on('close', (code) => resolve({ code, out }));
  });
}

test('the Indexed Job and the merge Job scripts, run as the pods run them, on the local broker', {
  timeout: 300_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-k8s-'));
  const vhost = `rpcscope-k8s-${randomBytes(3).toString('hex')}`;
  const user = `rpcscope-k8s-${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const mgmt = new ManagementClient({ url: 'http://127.0.0.1:15672' });
  await mgmt.putVhost(vhost);
  execFileSync('rabbitmqctl', ['-q', 'add_user', user, password]);
  t.after(async () => {
    await mgmt.deleteVhost(vhost).catch(() => undefined);
    execFileSync('rabbitmqctl', ['-q', 'delete_user', user]);
    await rm(dir, { recursive: true, force: true });
  });
  execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, user, '.*', '.*', '.*']);
  // `rpcscope` on PATH is this checkout's entry point, as the image's is the installed package's
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await writeFile(
    join(bin, 'rpcscope'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/rpcscope.js')}" "$@"\n`,
  );
  await chmod(join(bin, 'rpcscope'), 0o755);
  const scenario = join(dir, 'scenario.yaml');
  const fix = join(ROOT, 'data', 'nova-zed');
  execFileSync(join(bin, 'rpcscope'), [
    'model',
    ...['idle', 'boot', 'stop', 'start', 'delete'].map((s) => join(fix, `${s}.tracing.json`)),
    '--speedup',
    '10',
    '-o',
    scenario,
  ]);
  const results = join(dir, 'results');
  await mkdir(results);
  const job = one('Job', 'rpcscope-emulate');
  const [c] = podSpec(job).containers;
  assert.ok(c !== undefined);
  const shards = Number(env(c, 'SHARDS'));
  const common = {
    SCENARIO: scenario,
    RESULTS: results,
    COMPUTES: '8',
    DURATION: '2s',
    RPCSCOPE_AMQP_URL: `amqp://${user}:${password}@127.0.0.1:5672/${vhost}`,
  };
  const runs = await Promise.all(
    Array.from({ length: shards }, (_, i) =>
      runScript(c, { ...common, JOB_COMPLETION_INDEX: String(i) }, bin),
    ),
  );
  for (const [i, r] of runs.entries()) {
    assert.equal(r.code, 0, `shard ${i + 1}: ${r.out}`);
    assert.ok(!r.out.includes(password), `shard ${i + 1} prints no password`);
    assert.ok(existsSync(join(results, `shard-${i + 1}.json`)), `shard-${i + 1}.json`);
  }
  const [m] = podSpec(one('Job', 'rpcscope-merge')).containers;
  assert.ok(m !== undefined);
  const merged = await runScript(m, { RESULTS: results }, bin);
  assert.equal(merged.code, 0, merged.out);
  const doc = JSON.parse(await readFile(join(results, 'merged.json'), 'utf8')) as {
    services: { planned: number; connected: number };
  };
  // 8 computes + conductor, scheduler, api: every service in exactly one shard
  assert.equal(doc.services.planned, 11);
  assert.equal(doc.services.connected, 11);
  assert.ok(existsSync(join(results, 'merged.html')));
});
