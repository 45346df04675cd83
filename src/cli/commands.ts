/** The list of commands; each module adds itself here with one line. */
import type { Command } from '@commander-js/extra-typings';
import { register as capture } from './capture.ts';
import { register as chaos } from './chaos.ts';
import { register as cluster } from './cluster.ts';
import { register as demo } from './demo.ts';
import { register as emulate } from './emulate.ts';
import { register as exportCmd } from './export.ts';
import { register as model } from './model.ts';
import { register as report } from './report.ts';
import { register as spec } from './spec.ts';
import { register as watch } from './watch.ts';

export type Register = (program: Command) => void;

/** In pipeline order, which is the order `rpcscope --help` lists them in. */
export const commands: Register[] = [
  demo,
  capture,
  report,
  spec,
  watch,
  exportCmd,
  model,
  emulate,
  cluster,
  chaos,
];
