// The status as JSON in pieces, a service at a time: 10,000 services make some 30 MB, and one
// JSON.stringify of it held the director's event loop for most of a second.
import type { DirectorStatus } from '../api';

export function* statusJsonChunks(status: DirectorStatus): Generator<string> {
  const { services, ...rest } = status;
  const head = JSON.stringify(rest);
  yield `${head.slice(0, -1)}${head === '{}' ? '' : ','}"services":[`;
  for (let i = 0; i < services.length; i++) yield `${i === 0 ? '' : ','}${JSON.stringify(services[i])}`;
  yield ']}';
}

/** Writes pieces to a stream, yielding the event loop between them and waiting while it is full. */
export async function writePieces(out: NodeJS.WritableStream & { destroyed: boolean }, pieces: Iterable<string> | AsyncIterable<string>): Promise<void> {
  for await (const piece of pieces) {
    if (out.destroyed) return; // the reader went away
    if (!out.write(piece)) await drained(out);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  out.end();
}

/** Resolves when the stream can take more, or is closed. */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
