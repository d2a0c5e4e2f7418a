import { connect, createServer, type Socket } from 'node:net';

// A TCP pass-through on a loopback address: the same API server reached through another URL, as a
// controller running in a pod reaches its host through https://<service IP>:443. TLS passes through
// untouched, so the client must accept the server's certificate for the name it dials.

export interface TcpProxy {
  host: string;
  port: number;
  /** Connections accepted so far (proves the client really went through the proxy). */
  connections(): number;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

export async function startTcpProxy(opts: {
  listenHost: string;
  targetHost: string;
  targetPort: number;
}): Promise<TcpProxy> {
  if (!opts.listenHost.startsWith('127.') || !opts.targetHost.startsWith('127.'))
    throw new Error(`the e2e proxy stays on loopback (got ${opts.listenHost} → ${opts.targetHost})`);
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted += 1;
    const upstream = connect(opts.targetPort, opts.targetHost);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      // A reset on one side ends the other; errors are the client's to see, not the test's.
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.listenHost, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  return {
    host: opts.listenHost,
    port: address.port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
