/**
 * The list of commands, in pipeline order (the order `rpcscope --help` lists them in). Each
 * module is imported only when its command runs, so `rpcscope --version`, `--help` and each
 * command start without loading the others' dependencies (DuckDB, OpenTelemetry, amqplib…);
 * the one-line descriptions live here for that reason.
 */
import type { Command } from '@commander-js/extra-typings';

export type Register = (program: Command) => void;

export interface CommandEntry {
  readonly name: string;
  readonly description: string;
  /** The module that adds the command with its options and action. */
  readonly load: () => Promise<{ register: Register }>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'demo',
    description:
      'the main job on bundled real-nova captures: report, spec (HTML diagram) and, when a broker answers, an emulation of the measured model',
    load: () => import('./demo.ts'),
  },
  {
    name: 'capture',
    description:
      'record live traffic: the RabbitMQ firehose of a vhost as a rabbitmq_tracing JSON log (--amqp), or tcpdump of the AMQP port as pcap (--tcpdump)',
    load: () => import('./capture.ts'),
  },
  {
    name: 'report',
    description:
      'what the control plane did: RPC counts by kind and method, call latency, failures, unanswered and slowest calls, services behind connections',
    load: () => import('./report.ts'),
  },
  {
    name: 'footprint',
    description:
      'broker footprint per process (connections, channels, queues by kind, bindings, exchanges) from management snapshots',
    load: () => import('./footprint.ts'),
  },
  {
    name: 'spec',
    description:
      'the RPC specification of every operation in the captures: per operation its messages, counts, sizes and a sequence diagram; per service its background traffic',
    load: () => import('./spec.ts'),
  },
  {
    name: 'watch',
    description:
      'live: Prometheus /metrics (oslo.metrics names, client and server side), broker hazards, dashboard, optional DuckDB store and OTLP traces',
    load: () => import('./watch.ts'),
  },
  {
    name: 'export',
    description: 'export a `watch --store` DuckDB file as Parquet (messages.parquet, calls.parquet)',
    load: () => import('./export.ts'),
  },
  {
    name: 'model',
    description:
      'write an emulation scenario (YAML) from captures: background periodic RPCs per service, operations as RPC sequences, server answer times and sizes',
    load: () => import('./model.ts'),
  },
  {
    name: 'emulate',
    description:
      'emulate oslo.messaging services (wire-exact) on a real RabbitMQ from a scenario file, and measure',
    load: () => import('./emulate.ts'),
  },
  {
    name: 'cluster',
    description:
      "start, inspect and remove a local RabbitMQ cluster of rpcscope's own (nodes in network namespaces)",
    load: () => import('./cluster.ts'),
  },
  {
    name: 'chaos',
    description:
      'run a scenario with faults on a timeline on a local RabbitMQ cluster; account for every message',
    load: () => import('./chaos.ts'),
  },
  {
    name: 'completion',
    description: 'print the bash or zsh completion script: source <(rpcscope completion bash)',
    load: () => import('./completion.ts'),
  },
];
