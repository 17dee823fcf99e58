/** In-memory webhook stores and sender, keeping the promises of the DynamoDB adapters. */
import type { QueuedEvent } from '../../functions/core/webhook-events';
import type {
  AttemptPatch,
  DeliveryStatus,
  EndpointPatch,
  EventPublisher,
  WebhookDelivery,
  WebhookDeliveryStore,
  WebhookEndpoint,
  WebhookEndpointStore,
  WebhookResponse,
  WebhookSender,
} from '../../functions/ports';

export class MemoryWebhookEndpoints implements WebhookEndpointStore {
  readonly items = new Map<string, WebhookEndpoint>();

  async create(e: WebhookEndpoint): Promise<boolean> {
    if (this.items.has(e.id)) return false;
    this.items.set(e.id, e);
    return true;
  }
  async get(id: string) {
    return this.items.get(id);
  }
  async list() {
    return [...this.items.values()];
  }
  async update(id: string, patch: EndpointPatch, at: string) {
    const e = this.items.get(id);
    if (!e) return undefined;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    let next: WebhookEndpoint = { ...e, ...defined, updatedAt: at };
    if (patch.enabled === true) {
      const { disabledReason: _r, disabledAt: _a, failingSince: _f, ...rest } = next;
      next = { ...rest, failures: 0 };
    }
    this.items.set(id, next);
    return next;
  }
  async delete(id: string) {
    return this.items.delete(id);
  }
  async recordFailure(id: string, at: string) {
    const e = this.items.get(id);
    if (!e) return { failures: 0, failingSince: at };
    const next = { ...e, failures: e.failures + 1, failingSince: e.failingSince ?? at };
    this.items.set(id, next);
    return { failures: next.failures, failingSince: next.failingSince };
  }
  async recordSuccess(id: string) {
    const e = this.items.get(id);
    if (e && e.failures > 0) {
      const { failingSince: _, ...rest } = e;
      this.items.set(id, { ...rest, failures: 0 });
    }
  }
  async disable(id: string, reason: string, at: string) {
    const e = this.items.get(id);
    if (!e?.enabled) return false;
    this.items.set(id, { ...e, enabled: false, disabledReason: reason, disabledAt: at, updatedAt: at });
    return true;
  }
}

export class MemoryWebhookDeliveries implements WebhookDeliveryStore {
  readonly items = new Map<string, WebhookDelivery>();
  private key = (endpointId: string, id: string) => `${endpointId}|${id}`;

  async create(d: WebhookDelivery) {
    const k = this.key(d.endpointId, d.id);
    if (this.items.has(k)) return false;
    this.items.set(k, d);
    return true;
  }
  async get(endpointId: string, id: string) {
    return this.items.get(this.key(endpointId, id));
  }
  async recordAttempt(endpointId: string, id: string, attempts: number, patch: AttemptPatch) {
    const k = this.key(endpointId, id);
    const d = this.items.get(k);
    if (!d || d.attempts !== attempts) return false;
    const { lastStatusCode: _c, lastError: _e, nextAttemptAt: _n, ...rest } = d;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    this.items.set(k, { ...rest, ...defined, attempts: attempts + 1 } as WebhookDelivery);
    return true;
  }
  async list(endpointId: string, options: { limit: number; since?: string | undefined; status?: DeliveryStatus }) {
    const items = [...this.items.values()]
      .filter((d) => d.endpointId === endpointId)
      .filter((d) => options.status === undefined || d.status === options.status)
      .filter((d) => options.since === undefined || d.createdAt >= options.since)
      .sort((a, b) => b.id.localeCompare(a.id))
      .slice(0, options.limit)
      .map(({ payload: _, ...d }) => d);
    return { items };
  }
  async replay(endpointId: string, id: string) {
    const k = this.key(endpointId, id);
    const d = this.items.get(k);
    if (!d) return undefined;
    if (d.status === 'pending') return d;
    const { nextAttemptAt: _, ...rest } = d;
    const next: WebhookDelivery = { ...rest, status: 'pending', attempts: 0 };
    this.items.set(k, next);
    return next;
  }
}

/** A receiver as a function of the request: answers what `answer` says and keeps every request. */
export class FakeSender implements WebhookSender {
  readonly requests: { url: string; headers: Readonly<Record<string, string>>; body: string }[] = [];
  answer: () => WebhookResponse = () => ({ kind: 'response', status: 200 });

  async post(url: string, headers: Readonly<Record<string, string>>, body: string) {
    this.requests.push({ url, headers, body });
    return this.answer();
  }
}

export class MemoryPublisher implements EventPublisher {
  readonly events: QueuedEvent[] = [];
  fail = false;
  async publish(events: readonly QueuedEvent[]) {
    if (this.fail) throw new Error('queue down');
    this.events.push(...events);
  }
}
