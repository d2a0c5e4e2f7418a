// The controller's own HTTP endpoint: liveness, readiness and Prometheus metrics. Loopback only by
// default; exposing it is a deliberate choice of the caller.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from './metrics.ts';

export interface HttpServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  healthz(): boolean;
  readyz(): boolean;
  /** A function when the registry changes over the process's life (a fresh one per leadership term). */
  metrics: Registry | (() => Registry);
}

export interface RunningHttpServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  readonly host: string;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** A probe that throws counts as failing; its message is shown to whoever asked. */
function probe(res: ServerResponse, name: string, check: () => boolean) {
  let ok = false;
  let why = '';
  try {
    ok = check();
  } catch (e) {
    why = `: ${e instanceof Error ? e.message : String(e)}`;
  }
  reply(res, ok ? 200 : 503, ok ? 'ok\n' : `${name} check failed${why}\n`);
}

export function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      reply(res, 405, 'method not allowed\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    switch (path) {
      case '/healthz':
      case '/livez':
        probe(res, 'health', opts.healthz);
        return;
      case '/readyz':
        probe(res, 'readiness', opts.readyz);
        return;
      case '/metrics': {
        let text: string;
        const registry = typeof opts.metrics === 'function' ? opts.metrics() : opts.metrics;
        try {
          text = registry.expose();
        } catch (e) {
          reply(res, 500, `metrics: ${e instanceof Error ? e.message : String(e)}\n`);
          return;
        }
        reply(res, 200, text, registry.contentType);
        return;
      }
      default:
        reply(res, 404, 'not found: try /healthz, /readyz or /metrics\n');
    }
  };
  const server = createServer(handle);
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot serve on ${host}:${opts.port}: ${e.message}`)));
    server.listen(opts.port, host, () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        host,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
