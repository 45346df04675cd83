/**
 * The fast body reader against the reference (a full JSON.parse, then factsOfMessage): on every
 * real nova body, on the encodings python and JavaScript produce (separators, ensure_ascii,
 * escapes, unicode), on odd but valid shapes, and on seeded byte mutations.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanBody } from './body-scan.ts';
import { parseBody } from './envelope.ts';
import { type BodyFacts, factsOfMessage, NOT_OSLO } from './facts.ts';

const fixtures = join(import.meta.dirname, '..', '..', '..', 'data', 'nova-zed');

function reference(b: Uint8Array): BodyFacts {
  const p = parseBody(b);
  return p.msg === undefined ? NOT_OSLO : factsOfMessage(p.envelope, p.msg);
}

/** Both readers agree; the fast one must not decline a body of the usual shape (`mustRead`). */
function agree(b: Uint8Array, what: string, mustRead = true): void {
  const fast = scanBody(b);
  if (fast === undefined) {
    assert.ok(!mustRead, `${what}: declined`);
    return;
  }
  assert.deepEqual(fast, reference(b), what);
}

/** python json.dumps: ", " and ": " separators; ensure_ascii escapes every non-ASCII character. */
function pyDumps(v: unknown, ensureAscii = true): string {
  if (v === null || typeof v !== 'object') {
    const s = JSON.stringify(v);
    return ensureAscii && typeof v === 'string'
      ? s.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      : s;
  }
  if (Array.isArray(v)) return `[${v.map((x) => pyDumps(x, ensureAscii)).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyDumps(k, ensureAscii)}: ${pyDumps(x, ensureAscii)}`)
    .join(', ')}}`;
}

const enc = new TextEncoder();
const py = (msg: unknown, ascii = true): Uint8Array =>
  enc.encode(pyDumps({ 'oslo.version': '2.0', 'oslo.message': pyDumps(msg, ascii) }, ascii));
const js = (msg: unknown): Uint8Array =>
  enc.encode(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(msg) }));

function fixtureBodies(): { name: string; body: Uint8Array }[] {
  const out: { name: string; body: Uint8Array }[] = [];
  for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.tracing.json'))) {
    readFileSync(join(fixtures, f), 'utf8')
      .split('\n')
      .forEach((line, n) => {
        if (line === '') return;
        const r = JSON.parse(line) as { payload: string };
        out.push({ name: `${f}:${n + 1}`, body: Buffer.from(r.payload, 'base64') });
      });
  }
  return out;
}

test('every real nova body: read by the fast path, facts equal to the full parse', () => {
  const bodies = fixtureBodies();
  assert.ok(bodies.length > 300);
  let objects = 0;
  for (const { name, body } of bodies) {
    agree(body, name);
    if (scanBody(body)?.object !== undefined) objects++;
  }
  assert.ok(objects > 10, 'nova object RPC is among them');
});

test('the same messages encoded by python (ensure_ascii on and off) and by JSON.stringify', () => {
  for (const { name, body } of fixtureBodies()) {
    const outer = JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
    const msg = JSON.parse(outer['oslo.message'] as string) as Record<string, unknown>;
    // a non-ASCII context value and one full of escapes
    const m = {
      ...msg,
      _context_project_name: 'Ωmega ✓',
      _context_user_name: 'Jürgen 👩‍💻 "q" \\ back\nslash\t/',
      _context_tags: ['a"b', { 'k\\': 'é' }],
    };
    agree(py(m), `${name} python`);
    agree(py(m, false), `${name} python, ensure_ascii=False`);
    agree(js(m), `${name} JSON.stringify`);
  }
});

test('odd but valid shapes: duplicates, literals, numbers, empty values, args shapes, whitespace', () => {
  const base = { _msg_id: 'm', _unique_id: 'u', _context_request_id: 'req-1' };
  const cases: Record<string, unknown>[] = [
    {
      method: 'object_action',
      args: { objinst: { 'nova_object.name': 'Instance', x: [1, { y: '}' }] }, objmethod: 'save' },
    },
    { method: 'object_action', args: { objinst: 'not an object', objmethod: 'save' } },
    { method: 'object_action', args: [1, 2] },
    { method: 'object_action', args: null },
    { method: 'object_class_action_versions', args: { objname: 'Flavor', objmethod: 'get_by_id' } },
    { method: 'object_backport_versions', args: { objinst: { 'nova_object.name': 'Service' } } },
    { method: 'object_action', args: {} },
    { method: 42, args: {}, _timeout: 1e2 },
    { method: 'm', _timeout: -0.5, namespace: null, version: '1.0', _reply_q: 'reply_x' },
    { method: 'm', _timeout: 'soon' },
    { result: { a: [] }, failure: null, ending: true, _msg_id: 'r' },
    {
      result: null,
      failure: JSON.stringify({ class: 'E', module: 'm', message: 'boom "x"', tb: ['a\nb'] }),
      ending: false,
    },
    { ending: 'yes', _msg_id: 'r' },
    {
      event_type: 'compute.instance.update',
      priority: 'INFO',
      publisher_id: 'nova-compute:h',
      payload: { p: '\\' },
    },
    {
      _context_roles: [],
      _context_catalog: {},
      _context_nested: { a: [{}, []] },
      _context_n: 3.25,
      _context_t: true,
    },
    { _context_password: 'x', _context_auth_token: null, _context_url: 'rabbit://u:pw@h:5672/' },
    {},
  ];
  for (const [n, c] of cases.entries()) {
    const msg = { ...base, ...c };
    agree(py(msg), `case ${n} python`);
    agree(js(msg), `case ${n} js`);
  }
  // keys repeated: the last value wins, as in JSON.parse
  const dup = `{"method": "a", "method": "b", "_msg_id": "m", "_context_x": 1, "_context_x": "2", "ending": true, "ending": 5}`;
  agree(enc.encode(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': dup })), 'duplicate keys');
  // whitespace everywhere JSON allows it, inside and outside
  const spaced = ` {\n "oslo.version" : "2.0" ,\t"oslo.message" : ${JSON.stringify('\n{ "method" : "m" ,\r\n "_msg_id" :"m", "args": [ ] , "_context_e": [ ] }\t')} }\n`;
  agree(enc.encode(spaced), 'whitespace');
  // the version after the message
  agree(
    enc.encode(`{"oslo.message": ${JSON.stringify(JSON.stringify({ method: 'm' }))}, "oslo.version": "2.0"}`),
    'key order',
  );
});

test('declined, then read by the reference: 1.0 bare dicts, other JSON, not JSON, truncated bodies', () => {
  for (const [what, text] of [
    ['1.0', JSON.stringify({ method: 'm', _msg_id: 'x' })],
    ['inner not an object', JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '[1]' })],
    ['extra outer key', JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{}', x: 1 })],
    ['escaped key', JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{"meth\\u006fd": "m"}' })],
    ['no version', JSON.stringify({ 'oslo.message': '{"method": "m"}' })],
    ['not JSON', 'hello'],
    [
      'truncated',
      JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{"method": "m", "args": {"a": "b"}}' }).slice(
        0,
        60,
      ),
    ],
    ['inner trailing text', JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{"method": "m"} x' })],
    [
      'raw newline in an inner string',
      `{"oslo.version": "2.0", "oslo.message": "{\\"method\\": \\"a\nb\\"}"}`,
    ],
  ] as const) {
    const b = enc.encode(text);
    assert.equal(scanBody(b), undefined, what);
  }
});

test('seeded mutations of real bodies: no crash; whenever the body is valid JSON, the facts agree', () => {
  const bodies = fixtureBodies();
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const alphabet = enc.encode('\\"{}[],: nu0a\x01\x7f\xc3');
  let valid = 0;
  for (let k = 0; k < 3000; k++) {
    const src = bodies[rnd(bodies.length)]?.body as Uint8Array;
    const b = Uint8Array.from(src);
    for (let m = 1 + rnd(3); m > 0; m--) b[rnd(b.length)] = alphabet[rnd(alphabet.length)] as number;
    const fast = scanBody(b); // must not throw
    const p = parseBody(b);
    if (p.envelope === '2.0') {
      valid++;
      if (fast !== undefined) assert.deepEqual(fast, reference(b), `mutation ${k}`);
    }
  }
  assert.ok(valid > 100, `${valid} mutations still valid`);
});
