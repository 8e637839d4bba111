/**
 * A TCP proxy in front of the real PostgreSQL that ends a session the way PostgreSQL's fast
 * shutdown does (an ErrorResponse FATAL 57P01, then the socket closed) the moment the client sends
 * a statement containing a chosen text. Every other byte passes through untouched, so the driver
 * talks to a real server until the cue. This is how a database restart meets a connection at a
 * precise point, which a real restart only does by chance.
 */
import net from 'node:net';

export interface SessionKiller {
  /** `postgres://…` through the proxy, for `database` on the real server. */
  url(database: string): string;
  /** The next `times` sessions that send a statement containing `cue` are killed there. */
  killOn(cue: string, times?: number): void;
  /** Sessions killed so far. */
  killed(): number;
  close(): Promise<void>;
}

/** What PostgreSQL sends a backend it terminates (`pg_terminate_backend`, fast shutdown). */
function terminatingConnection(): Buffer {
  const fields = ['SFATAL', 'VFATAL', 'C57P01', 'Mterminating connection due to administrator command'].map((field) => Buffer.from(`${field}\0`));
  const body = Buffer.concat([...fields, Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write('E');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

export async function startSessionKiller(databaseUrl: string): Promise<SessionKiller> {
  const target = new URL(databaseUrl);
  const cues: { cue: Buffer; left: number }[] = [];
  const sockets = new Set<net.Socket>();
  let killed = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      const due = cues.find((entry) => entry.left > 0 && chunk.includes(entry.cue));
      if (!due) return void upstream.write(chunk);
      due.left -= 1;
      killed += 1;
      upstream.destroy();
      client.end(terminatingConnection());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url(database) {
      const url = new URL(databaseUrl);
      url.host = `127.0.0.1:${port}`;
      url.pathname = `/${database}`;
      return url.toString();
    },
    killOn(cue, times = 1) {
      cues.push({ cue: Buffer.from(cue), left: times });
    },
    killed: () => killed,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
