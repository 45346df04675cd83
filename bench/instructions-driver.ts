/**
 * One pass of the decoder (`decode`) or of the whole report path (`report`) over a capture, or
 * nothing (`none`: the start-up to subtract), for bench/instructions.bench.ts to run under
 * callgrind. Prints the number of messages.
 */

import { readPcapFile } from '../src/capture/pcap-file.ts';
import { ReportAccumulator } from '../src/outputs/report.ts';
import { loadCaptures } from '../src/pipeline/load.ts';
import { RecordCounter } from '../src/pipeline/sink.ts';

const [mode, file] = process.argv.slice(2);
if (mode !== 'none' && file === undefined)
  throw new Error('usage: instructions-driver none|decode|report FILE');
let messages = 0;
if (mode === 'decode' && file !== undefined) {
  await readPcapFile(file, {
    event(e) {
      if (e.type === 'message') messages++;
    },
  });
} else if (mode === 'report' && file !== undefined) {
  const acc = new ReportAccumulator();
  const count = new RecordCounter();
  acc.result(await loadCaptures([file], { keep: false, sinks: [count, acc] }));
  messages = count.messages;
}
process.stdout.write(`${messages}\n`);
