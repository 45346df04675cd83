/** The list of commands; each module adds itself here with one line. */
import type { Command } from '@commander-js/extra-typings';

export type Register = (program: Command) => void;

export const commands: Register[] = [];
