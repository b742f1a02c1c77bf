// Standard output for every command. It writes to descriptor 1 directly: making process.stdout
// (a stream over a file, pipe or tty) costs more than all of `lvsd ipvs list --timeout`'s own
// work in the lab. The stream is used only when the descriptor cannot take a write now (EAGAIN:
// someone set it non-blocking), and from then on, so that output keeps its order.
import { writeSync } from 'node:fs';

let viaStream = false;

function useStream(): void {
  viaStream = true;
  // `lvsd ipvs list | head` closes the pipe early: stop quietly, as ipvsadm does, instead of
  // letting the write error escape (from inside a netlink callback it would abort the process).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export function writeOut(text: string | Uint8Array): void {
  if (viaStream) {
    process.stdout.write(text);
    return;
  }
  let rest = typeof text === 'string' ? Buffer.from(text) : text;
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (code !== 'EAGAIN') throw err;
    useStream();
    process.stdout.write(rest);
  }
}
