#!/usr/bin/python3
"""footprint.py DIR [SCENARIO]: the broker footprint of each rig process, as a markdown table.

From SCENARIO's (default idle) meta file, the management snapshot at its end: per process (oslo's
connection_name `<binary>:<pid>:<uuid>`, grouped by binary and pid) its connections, channels,
the queues it consumes by kind (topic, topic.<host>, fanout, reply), the bindings to those queues
and the exchanges they come from (the default exchange left out); and from the tracing logs the
messages it published per minute over the recording.
"""
import collections
import json
import os
import sys

HOST = os.environ.get('RIG_HOST', 'rpcscope-compute-1')


def kind(q):
    if q.startswith('reply_'):
        return 'reply'
    if '_fanout_' in q:
        return 'fanout'
    if q.endswith('.' + HOST):
        return 'topic.host'
    return 'topic'


def main():
    d = sys.argv[1]
    scen = sys.argv[2] if len(sys.argv) > 2 else 'idle'
    meta = json.load(open('%s/%s.meta.json' % (d, scen)))
    minutes = (meta['end'] - meta['start']) / 60
    rows = collections.OrderedDict()
    for vhost in meta['vhosts']:
        snap = meta['snapshot_end'][vhost]
        proc = {}
        for c in snap['connections']:
            # the rabbitmq_tracing plugin's own direct (non-network) connection records the vhost
            n = c['connection_name'] or ('rabbitmq_tracing (the recorder)' if c['name'].startswith('<') else c['name'])
            proc[c['name']] = proc[n] = ':'.join(n.split(':')[:2])
        def row(p):
            return rows.setdefault((vhost, p), {'connections': 0, 'channels': 0, 'queues': collections.Counter(),
                                                'bindings': 0, 'exchanges': set(), 'published': 0})
        for c in snap['connections']:
            row(proc[c['name']])['connections'] += 1
        for ch in snap['channels']:
            if ch['connection'] in proc:
                row(proc[ch['connection']])['channels'] += 1
        owner = {}
        for q in snap['queues']:
            for n in set(q['consumed_by']):
                if n in proc:
                    owner[q['name']] = proc[n]
                    row(proc[n])['queues'][kind(q['name'])] += 1
        for b in snap['bindings']:
            if b['destination'] in owner and b['source']:
                r = row(owner[b['destination']])
                r['bindings'] += 1
                r['exchanges'].add(b['source'])
        for line in open('%s/%s.%s.tracing.json' % (d, scen, vhost)):
            if line.strip():
                t = json.loads(line)
                if t.get('type') == 'published' and t.get('connection') in proc:
                    row(proc[t['connection']])['published'] += 1
    print('| vhost | process | connections | channels | queues (topic / topic.host / fanout / reply) | bindings | exchanges | idle publishes/min |')
    print('|---|---|---:|---:|---|---:|---:|---:|')
    for (vhost, p), r in rows.items():
        q = r['queues']
        print('| %s | %s | %d | %d | %d (%d / %d / %d / %d) | %d | %d | %.1f |' % (
            vhost, p.split(':')[0] + ' (pid %s)' % p.split(':')[1] if ':' in p else p, r['connections'], r['channels'],
            sum(q.values()), q['topic'], q['topic.host'], q['fanout'], q['reply'], r['bindings'],
            len(r['exchanges']), r['published'] / minutes))
    for vhost in meta['vhosts']:
        snap = meta['snapshot_end'][vhost]
        rec = [c['name'] for c in snap['connections'] if c['name'].startswith('<')]
        queues = [q for q in snap['queues'] if not q['name'].startswith('amq.gen-') and not q['name'].startswith('trace')]
        print('\n%s vhost in all, the recorder left out: %d connections, %d channels, %d queues (%d without consumer), %d exchanges, %d bindings' % (
            vhost, len(snap['connections']) - len(rec), len([c for c in snap['channels'] if c['connection'] not in rec]),
            len([q for q in snap['queues'] if not set(q['consumed_by']) & set(rec)]),
            sum(1 for q in snap['queues'] if not q['consumers']), len(snap['exchanges']),
            len([b for b in snap['bindings'] if b['destination'] not in {q['name'] for q in snap['queues'] if set(q['consumed_by']) & set(rec)}])))
    print('\nrecording: %.1f s' % (meta['end'] - meta['start']))


if __name__ == '__main__':
    main()
