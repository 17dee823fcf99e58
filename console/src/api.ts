/**
 * The console's one way to the API: same origin (no CORS), the operator's key from sessionStorage (this
 * tab only, gone when it closes), and the API's error envelope turned into an `ApiFailure`.
 */

const KEY_ITEM = 'mailroute.apiKey';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY_ITEM),
  signIn: (key: string): void => sessionStorage.setItem(KEY_ITEM, key),
  signOut: (): void => sessionStorage.removeItem(KEY_ITEM),
};

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** An answer outside 2xx, as the API's envelope describes it. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function call<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = session.key();
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiFailure(0, 'network', 'The API did not answer. Check your connection and try again.');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return json as T;
  const envelope = (json ?? {}) as {
    error?: { code?: string; message?: string; details?: FieldIssue[] };
    message?: string;
  };
  throw new ApiFailure(
    res.status,
    envelope.error?.code ?? 'error',
    envelope.error?.message ?? envelope.message ?? `The API answered ${res.status}.`,
    envelope.error?.details ?? [],
  );
}

/** A query string of the non-empty values. */
export function query(params: Readonly<Record<string, string | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
