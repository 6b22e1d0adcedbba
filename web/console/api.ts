/** The console's calls to the relay: JSON in, the envelope's `data` out, a RelayError with the error code otherwise. */
import { relayJson } from '../shared/http.js';

// Wire types come from the routes (type-only: erased from the bundle).
export type {
  ConsoleAccount as Account,
  ConsoleRole as Role,
  ConsoleSession as Session,
  WorkspaceSummary,
} from '../../api/console/common.js';
export type Tenant = Record<string, unknown> & {
  tenant_id: string;
  tenant_name: string;
  status: 'active' | 'suspended';
  widget_public_key: string;
  created_at: string;
};

export class ConsoleApi {
  constructor(
    private readonly base: string,
    private readonly token: () => string | null,
  ) {}

  call<T>(
    method: 'GET' | 'POST',
    path: string,
    o: { body?: unknown; query?: Record<string, string | number | undefined> } = {},
  ): Promise<T> {
    const qs = Object.entries(o.query ?? {}).filter(([, v]) => v !== undefined && v !== '');
    const url = `${this.base}/api/v1/console${path}${qs.length ? `?${new URLSearchParams(qs.map(([k, v]) => [k, String(v)])).toString()}` : ''}`;
    const token = this.token();
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    return relayJson<T>(url, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  }
}
