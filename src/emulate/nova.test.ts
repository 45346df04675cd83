import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { encodeCall, openEnvelope } from '../wire/oslo/encode.ts';
import {
  computePeriodics,
  emulatedComputeHosts,
  forgetNovaServices,
  NOVA_CLASS_ACTIONS,
  novaComputeScenario,
  novaService,
  registerNovaService,
  serviceRow,
} from './nova.ts';
import { padArgs, sized } from './payload.ts';

/** nova-compute's calls to the conductor in the real idle capture (published records, in order). */
function recorded(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync('data/nova-zed/idle.firehose.jsonl', 'utf8').split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as { event?: string; body_json?: { 'oslo.message'?: string } };
    const inner = r.body_json?.['oslo.message'];
    if (r.event !== 'publish' || inner === undefined) continue;
    const m = JSON.parse(inner) as Record<string, unknown>;
    if (typeof m.method === 'string') out.push(m);
  }
  return out;
}

/** What the emulator publishes for one call (service.ts: sized() around encodeCall with padArgs). */
function emulatedArgs(method: string, object: string, host: string, bytes: number): Record<string, unknown> {
  const msg = sized(bytes, (pad) =>
    encodeCall(
      { exchange: 'nova', topic: 'conductor', method, args: padArgs(method, object, host, pad), context: {} },
      { replyQ: 'reply_x', timeoutS: 60 },
    ),
  );
  return openEnvelope(msg.body)?.args as Record<string, unknown>;
}

test('an unregistered host keeps the padded stand-ins (other scenarios unchanged)', () => {
  forgetNovaServices();
  const a = padArgs('object_action', 'Service.save', 'compute-00001', 'xx');
  assert.deepEqual(a.objinst, {
    'nova_object.name': 'Service',
    'nova_object.namespace': 'nova',
    'nova_object.version': '1.0',
    'nova_object.data': { host: 'compute-00001', pad: 'xx' },
    'nova_object.changes': [],
  });
  assert.deepEqual(padArgs('object_class_action_versions', 'InstanceList.get_by_host', 'h', '').kwargs, {
    host: 'h',
    pad: '',
  });
});

test('a registered host sends the recorded Service.save and class actions byte for byte', () => {
  const calls = recorded();
  const saves = calls.filter((m) => (m.args as { objmethod?: string }).objmethod === 'save');
  assert.ok(saves.length >= 10, `${saves.length} Service.save in the capture`);
  // the row as the capture's first heartbeat carries it, one report earlier
  const first = (saves[0]!.args as { objinst: { 'nova_object.data': Record<string, unknown> } }).objinst;
  const data = first['nova_object.data'];
  const row = serviceRow({ ...data, report_count: (data.report_count as number) - 1 });
  assert.ok(row !== undefined);
  forgetNovaServices();
  registerNovaService(row);
  // a padded target builds the body twice: report_count still grows by one per message
  const sent = emulatedArgs('object_action', 'Service.save', row.host, 5000);
  assert.equal(JSON.stringify(sent), JSON.stringify(saves[0]!.args));
  const next = emulatedArgs('object_action', 'Service.save', row.host, 0) as {
    objinst: { 'nova_object.data': { report_count: number; id: number } };
  };
  assert.equal(next.objinst['nova_object.data'].report_count, (data.report_count as number) + 1);
  assert.equal(next.objinst['nova_object.data'].id, data.id);
  assert.equal(novaService(row.host)?.reportCount, (data.report_count as number) + 1);

  const seen = new Set<string>();
  for (const m of calls) {
    const a = m.args as { objname?: string; objmethod?: string };
    if (m.method !== 'object_class_action_versions' || a.objname === undefined) continue;
    const object = `${a.objname}.${a.objmethod}`;
    seen.add(object);
    assert.equal(
      JSON.stringify(emulatedArgs('object_class_action_versions', object, row.host, 0)),
      JSON.stringify(m.args),
      object,
    );
  }
  assert.deepEqual([...seen].sort(), [...NOVA_CLASS_ACTIONS].sort());
  forgetNovaServices();
});

test('sync_instance_info from a registered host names it as the scheduler expects', () => {
  forgetNovaServices();
  registerNovaService(serviceRow({ id: 7, uuid: 'u', host: 'emu-cmp-0001' })!);
  assert.deepEqual(padArgs('sync_instance_info', undefined, 'emu-cmp-0001', ''), {
    host_name: 'emu-cmp-0001',
    instance_uuids: [],
  });
  forgetNovaServices('emu-cmp-0001');
  assert.equal(novaService('emu-cmp-0001'), undefined);
});

test('the emulated computes: hosts, one connection each, Zed periodics, no emulated server', () => {
  const s = novaComputeScenario('amqp://u:p@127.0.0.1:5672/nova', 3, { speedup: 2 });
  assert.equal(s.services.length, 1);
  const c = s.services[0]!;
  assert.equal(c.count, 3);
  assert.equal(c.connections, undefined);
  assert.equal(s.oslo.controlExchange, 'nova');
  assert.equal(s.speedup, 2);
  assert.deepEqual(emulatedComputeHosts(3), ['emu-cmp-0001', 'emu-cmp-0002', 'emu-cmp-0003']);
  assert.deepEqual(
    c.periodic.map((p) => `${p.object ?? p.method}@${p.periodS}`),
    computePeriodics({ resourceTracker: true }).map((p) => `${p.object ?? p.method}@${p.periodS}`),
  );
  assert.equal(c.periodic[0]!.object, 'Service.save');
  assert.equal(c.periodic[0]!.periodS, 10);
  assert.equal(computePeriodics({ resourceTracker: false }).length, 1);
});
