// API errors carry a numeric `.code` and the Status object as a JSON *string* in `.body`: fedctl's
// KubeApiError (transport.ts) and client-node's ApiException (the typed clients of join/unjoin) alike;
// network failures are plain Errors. These helpers read both safely.

export interface ApiStatus {
  code?: number;
  reason?: string;
  message: string;
}

export function apiStatus(e: unknown): ApiStatus {
  if (typeof e !== 'object' || e === null) return { message: String(e) };
  const err = e as { code?: unknown; body?: unknown; message?: unknown };
  const code = typeof err.code === 'number' ? err.code : undefined;
  let body: { reason?: unknown; message?: unknown } | undefined;
  if (typeof err.body === 'string') {
    try {
      body = JSON.parse(err.body);
    } catch {
      body = { message: err.body };
    }
  } else if (typeof err.body === 'object' && err.body !== null) {
    body = err.body as typeof body;
  }
  const reason = typeof body?.reason === 'string' ? body.reason : undefined;
  const message =
    typeof body?.message === 'string' && body.message !== ''
      ? body.message
      : code !== undefined
        ? `HTTP ${code}`
        : typeof err.message === 'string'
          ? err.message
          : String(e);
  return { code, reason, message };
}

export const isNotFound = (e: unknown): boolean => apiStatus(e).code === 404;
export const isAlreadyExists = (e: unknown): boolean => {
  const s = apiStatus(e);
  return s.code === 409 && s.reason === 'AlreadyExists';
};
export const isConflict = (e: unknown): boolean => {
  const s = apiStatus(e);
  return s.code === 409 && s.reason !== 'AlreadyExists';
};

/**
 * One line describing an error from the API server or the network. Network failures surface as
 * "fetch failed" with the real reason in `cause` (ECONNREFUSED, a TLS error), so causes are folded in.
 */
export function errorMessage(e: unknown): string {
  const s = apiStatus(e);
  let text =
    s.code !== undefined ? `${s.message} (HTTP ${s.code}${s.reason ? `, ${s.reason}` : ''})` : s.message;
  let cause = (e as { cause?: unknown } | null)?.cause;
  for (let depth = 0; cause !== undefined && cause !== null && depth < 4; depth++) {
    const m = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
    if (m && !text.includes(m)) text = `${text}: ${m}`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return text;
}

/**
 * Whether an error says the request (or the configuration behind it) is wrong, so retrying cannot
 * help: a malformed or invalid request (400, 422), bad or missing credentials (401), missing
 * permissions (403), a verb the server refuses (405). Everything else — the network, timeouts,
 * 404 while a CRD is still being served, 409 races, 429, 5xx — may pass, and callers that must
 * survive a host going away wait and retry instead of giving up.
 */
export function isPermanent(e: unknown): boolean {
  const code = apiStatus(e).code;
  // Writing into a namespace that is being deleted is refused with 403 until it is gone and can be
  // created again (a reinstall racing the deletion): a wait, not a configuration error.
  const body = (e as { body?: unknown } | null)?.body;
  if (code === 403 && typeof body === 'string' && body.includes('NamespaceTerminating')) return false;
  return code === 400 || code === 401 || code === 403 || code === 405 || code === 422;
}
