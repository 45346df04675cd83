/** The list of commands; each module adds itself here with one line. */
import type { Command } from '@commander-js/extra-typings';
import { register as capture } from './capture.ts';

export type Register = (program: Command) => void;

export const commands: Register[] = [capture];
