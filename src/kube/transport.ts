// The HTTP layer every request of fedctl goes through: one pooled undici dispatcher per KubeConfig
// (one cluster and one identity), built from the KubeConfig's own TLS settings and proxy (tls.ts);
// credentials from credentials.ts; deadlines, optional client-side limits, and errors that name the
// cluster, the verb and the path.
//
// Failures throw KubeApiError with `.code` and the Status JSON *string* in `.body` (the shape of
// client-node's ApiException), so `apiStatus()`, `isNotFound()` & co. in errors.ts work on them and
// on the errors of client-node's typed clients alike.
import { Agent, type Dispatcher, ProxyAgent } from 'undici';
import { type Credential, type CredentialSource, credentialsFor } from './credentials.ts';
import { apiStatus } from './errors.ts';
import type { KubeConfig } from './kubeconfig.ts';
import { limiterFor, NO_LIMITS, type RequestLimits, type TokenBucket } from './rate-limit.ts';
import { dispatcherOptions, relaxDispatcherOptions } from './tls.ts';

/** An API error with the request in its message; `.code`/`.body` as client-node's ApiException. */
export class KubeApiError extends Error {
  readonly code: number;
  /** The response body: a Status object as JSON text (or whatever the server sent). */
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly method: string;
  readonly path: string;
  readonly cluster: string;
  constructor(
    cluster: string,
    method: string,
    path: string,
    code: number,
    body: string,
    headers: Record<string, string>,
  ) {
    super(`HTTP ${code}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
    this.headers = headers;
    this.method = method;
    this.path = path;
    this.cluster = cluster;
    const s = apiStatus(this);
    this.message = `${method} ${path} on cluster "${cluster}": ${s.message} (HTTP ${code}${s.reason ? `, ${s.reason}` : ''})`;
  }
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default application/json when there is a body. */
  contentType?: string;
  /** Default application/json (e.g. the Table form kubectl asks for: `application/json;as=Table;g=meta.k8s.io;v=v1`). */
  accept?: string;
  /** Default 60 s; 0 for none (watches). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface KubeResponse {
  status: number;
  headers: Record<string, string>;
  /** The response body as it arrives; read it once (or text()). */
  chunks(): AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

export const contextName = (kc: KubeConfig): string =>
  kc.getCurrentContext() || kc.getCurrentCluster()?.name || '?';

function networkError(kc: KubeConfig, req: KubeRequest, e: unknown): Error {
  // fetch wraps the socket error in `cause`; the dispatcher throws it directly.
  const err0 = e as {
    code?: string;
    message?: string;
    name?: string;
    cause?: { code?: string; message?: string };
  };
  const name = err0.name;
  const why =
    name === 'TimeoutError'
      ? `timed out after ${req.timeoutMs ?? 60_000} ms`
      : name === 'AbortError'
        ? 'aborted'
        : [err0.cause?.code ?? err0.code, err0.cause?.message ?? err0.message].filter(Boolean).join(' ');
  const server = kc.getCurrentCluster()?.server ?? '?';
  const err = new Error(`${req.method} ${server}${req.path} (cluster "${contextName(kc)}"): ${why}`, {
    cause: e,
  });
  if (name === 'TimeoutError' || name === 'AbortError') err.name = name;
  return err;
}

/**
 * How requests reach one KubeConfig's cluster: its connection pool and its credentials. An exec
 * plugin that returns a client certificate gets a pool for that certificate (a new one when it
 * rotates; the old one closes once its requests are done).
 */
interface Transport {
  origin: string;
  basePath: string;
  dispatcher: Dispatcher;
  credentials: CredentialSource;
  certPool?: { cert: string; dispatcher: Dispatcher };
  limiter?: TokenBucket;
}

const transports = new WeakMap<KubeConfig, Promise<Transport>>();
const injected = new WeakMap<KubeConfig, Dispatcher>();
let requestLimits: RequestLimits = NO_LIMITS;

/**
 * Client-side limits for every cluster connection made from now on (`fedctl controller
 * --kube-api-qps/--kube-api-burst`): each cluster's API gets at most `qps` requests per second from
 * this process, watches excepted.
 */
export function configureRequestLimits(limits: RequestLimits): void {
  requestLimits = limits;
}

/**
 * Sends `kc`'s requests through `dispatcher` instead of a pool built from its TLS settings (an
 * in-memory API server such as src/testing/fake-api.ts). Credentials still come from `kc`.
 */
export function useDispatcher(kc: KubeConfig, dispatcher: Dispatcher): void {
  injected.set(kc, dispatcher);
  transports.delete(kc);
}

/** A connection pool for the KubeConfig's cluster, with a client certificate from an exec plugin. */
async function buildDispatcher(kc: KubeConfig, clientCert?: Credential['clientCert']): Promise<Dispatcher> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context "${kc.getCurrentContext()}" has no cluster`);
  let opts = dispatcherOptions(cluster, kc.getCurrentUser(), clientCert);
  // skip-TLS-verify already turns every check off.
  if (!cluster.skipTLSVerify)
    opts = relaxDispatcherOptions(opts, new Set(kc.relaxedTlsChecks ?? []), cluster.name);
  switch (opts.type) {
    case 'proxy':
      return new ProxyAgent({ uri: opts.uri, requestTls: opts.requestTls, connect: opts.connect });
    case 'socks': {
      // Rare and legacy: client-node's socks connector, loaded only for such a cluster.
      const { socksDispatcher } = await import('./client-node-bridge.ts');
      return socksDispatcher(kc);
    }
    case 'agent':
      return new Agent({ connect: opts.connect });
    case 'none':
      return new Agent();
  }
}

async function newTransport(kc: KubeConfig): Promise<Transport> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context "${kc.getCurrentContext()}" has no cluster`);
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new Error(`cluster "${cluster.name}": server ${JSON.stringify(cluster.server)} is not a URL`);
  }
  return {
    origin: server.origin,
    basePath: server.pathname.replace(/\/+$/, ''),
    dispatcher: injected.get(kc) ?? (await buildDispatcher(kc)),
    credentials: credentialsFor(kc),
    limiter: limiterFor(requestLimits),
  };
}

function transportOf(kc: KubeConfig): Promise<Transport> {
  let t = transports.get(kc);
  if (!t) {
    t = newTransport(kc).catch((e: Error) => {
      if (e.message.startsWith('cluster "')) throw e;
      throw new Error(`cluster "${kc.getCurrentCluster()?.name ?? contextName(kc)}": ${e.message}`, {
        cause: e,
      });
    });
    transports.set(kc, t);
    // A failure (an unreadable CA file) is not remembered: the next request tries again.
    t.catch(() => transports.delete(kc));
  }
  return t;
}

/** The pool for a credential: the KubeConfig's own, or one for an exec plugin's client certificate. */
async function poolFor(kc: KubeConfig, t: Transport, cred: Credential): Promise<Dispatcher> {
  const cert = cred.clientCert;
  if (!cert || injected.has(kc)) return t.dispatcher;
  if (t.certPool?.cert === cert.cert) return t.certPool.dispatcher;
  const old = t.certPool;
  t.certPool = { cert: cert.cert, dispatcher: await buildDispatcher(kc, cert) };
  if (old) void old.dispatcher.close().catch(() => undefined);
  return t.certPool.dispatcher;
}

/** The request's abort signal: the caller's, and the timeout (cleared by `done`). */
function deadline(req: KubeRequest): { signal?: AbortSignal; done(): void } {
  const timeoutMs = req.timeoutMs ?? 60_000;
  if (timeoutMs <= 0) return { signal: req.signal, done: () => undefined };
  const ctrl = new AbortController();
  const timer = setTimeout(
    () => ctrl.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const onAbort = () => ctrl.abort(req.signal?.reason);
  if (req.signal?.aborted) onAbort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctrl.signal,
    done: () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Sends one request with the KubeConfig's credentials and returns the response without judging its
 * status. Network failures throw an Error naming the server and path (cause attached). Requests go
 * straight to the KubeConfig's pooled undici dispatcher (not through fetch and web streams, which
 * cost about a third of the controller's CPU under bulk propagation).
 */
export async function kubeFetch(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse> {
  const t = await transportOf(kc);
  let cred = t.credentials.fixed;
  let dispatcher = t.dispatcher;
  if (!cred) {
    try {
      cred = await t.credentials.current();
      if (cred.clientCert) dispatcher = await poolFor(kc, t, cred);
    } catch (e) {
      throw new Error(`${req.method} ${req.path} (cluster "${contextName(kc)}"): ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  let query = '';
  for (const [k, v] of Object.entries(req.query ?? {}))
    if (v !== undefined)
      query += `${query ? '&' : '?'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  const headers: Record<string, string> = {
    ...cred.headers,
    accept: req.accept ?? 'application/json',
    'user-agent': 'fedctl',
  };
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['content-type'] = req.contentType ?? 'application/json';
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  }
  if (t.limiter && req.query?.watch === undefined) await t.limiter.take();
  const { signal, done } = deadline(req);
  try {
    const res = await dispatcher.request({
      origin: t.origin,
      path: `${t.basePath}${req.path}${query}`,
      method: req.method,
      headers,
      body,
      signal,
      // Deadlines are the signal's; a watch may be silent for minutes.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    // A rejected credential (an expired exec token the plugin's clock thought valid): fetch anew.
    if (res.statusCode === 401) t.credentials.invalidate();
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = String(v);
    return {
      status: res.statusCode,
      headers: flat,
      chunks: () => {
        const body = res.body as AsyncIterable<Uint8Array>;
        return {
          async *[Symbol.asyncIterator]() {
            try {
              yield* body;
            } catch (e) {
              throw networkError(kc, req, signal?.aborted ? signal.reason : e);
            } finally {
              done();
            }
          },
        };
      },
      text: async () => {
        try {
          return await res.body.text();
        } catch (e) {
          throw networkError(kc, req, signal?.aborted ? signal.reason : e);
        } finally {
          done();
        }
      },
    };
  } catch (e) {
    done();
    throw networkError(kc, req, signal?.aborted ? signal.reason : e);
  }
}

/** Sends a request and parses the JSON answer; a non-2xx status throws KubeApiError. */
export async function kubeRequest<T = unknown>(kc: KubeConfig, req: KubeRequest): Promise<T> {
  const res = await kubeFetch(kc, req);
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    throw new KubeApiError(contextName(kc), req.method, req.path, res.status, text, res.headers);
  }
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(
      `${req.method} ${req.path} on cluster "${contextName(kc)}": response is not JSON: ${text.slice(0, 200)}`,
    );
  }
}
