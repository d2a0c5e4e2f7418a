// Test support: a KubeConfig whose requests (everything that goes through transport.ts: resources.ts,
// informers, discovery) are answered in memory by a handler, without sockets. The handler sees the
// method, path, query, headers and parsed body; what it throws reaches the caller as a network error.
import type { Dispatcher } from 'undici';
import { kubeConfigForEndpoint } from '../kube/clients.ts';
import type { KubeConfig } from '../kube/kubeconfig.ts';
import { useDispatcher } from '../kube/transport.ts';

export interface FakeApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body?: unknown;
}

export interface FakeApiResponse {
  status: number;
  /** An object is sent as JSON, a string as it is. */
  body?: unknown;
}

export type FakeApiHandler = (req: FakeApiRequest) => FakeApiResponse | Promise<FakeApiResponse>;

/** An API server's Status answer. */
export const statusResponse = (code: number, reason: string, message: string): FakeApiResponse => ({
  status: code,
  body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message },
});

/** An undici Dispatcher (only `request`, what transport.ts uses) answering through `handler`. */
export function fakeDispatcher(handler: FakeApiHandler): Dispatcher {
  const request = async (opts: Dispatcher.RequestOptions) => {
    const url = new URL(String(opts.path), 'http://fake');
    const raw = typeof opts.body === 'string' ? opts.body : undefined;
    let body: unknown = raw;
    try {
      body = raw === undefined ? undefined : JSON.parse(raw);
    } catch {
      // Not JSON (an apply patch in YAML): the text.
    }
    const res = await handler({
      method: String(opts.method),
      path: url.pathname,
      query: url.searchParams,
      headers: (opts.headers ?? {}) as Record<string, string>,
      body,
    });
    const text =
      res.body === undefined ? '' : typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
    return {
      statusCode: res.status,
      headers: { 'content-type': 'application/json' },
      body: {
        text: async () => text,
        async *[Symbol.asyncIterator]() {
          yield Buffer.from(text);
        },
      },
    };
  };
  return { request, close: async () => undefined } as unknown as Dispatcher;
}

/** Answers `kc`'s requests with `handler` from now on; returns `kc`. */
export function serveFromMemory(kc: KubeConfig, handler: FakeApiHandler): KubeConfig {
  useDispatcher(kc, fakeDispatcher(handler));
  return kc;
}

/** A KubeConfig for cluster `name` (a bearer token) whose API server is `handler`. */
export const fakeApiKubeConfig = (name: string, handler: FakeApiHandler): KubeConfig =>
  serveFromMemory(
    kubeConfigForEndpoint({ name, server: `https://${name}.fake.invalid`, token: 'fake-token' }),
    handler,
  );
