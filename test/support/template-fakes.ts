/** Templates in memory, with the same conditions as the DynamoDB adapter (store/template-store.ts). */
import { TEMPLATE_COUNTERS, type TemplateContent, type TemplateCounts } from '../../functions/core/template';
import type { TemplateCanary, TemplateHead, TemplateStore, TemplateVersion } from '../../functions/ports';

export class MemoryTemplateStore implements TemplateStore {
  readonly headsBySlug = new Map<string, TemplateHead>();
  readonly versionsByKey = new Map<string, TemplateVersion>();
  readonly counts = new Map<string, TemplateCounts>();
  /** Requests made, by method (to check that a send reads what it should). */
  readonly calls: string[] = [];

  async create(head: TemplateHead) {
    this.calls.push('create');
    if (this.headsBySlug.has(head.slug)) return false;
    this.headsBySlug.set(head.slug, structuredClone(head));
    return true;
  }
  async head(slug: string) {
    this.calls.push('head');
    const h = this.headsBySlug.get(slug);
    return h && structuredClone(h);
  }
  async heads(slugs: readonly string[]) {
    this.calls.push('heads');
    const out = new Map<string, TemplateHead>();
    for (const s of slugs) {
      const h = this.headsBySlug.get(s);
      if (h) out.set(s, structuredClone(h));
    }
    return out;
  }
  async list(limit: number, cursor?: string) {
    const all = [...this.headsBySlug.values()].sort((a, b) => a.slug.localeCompare(b.slug));
    const start = cursor ? all.findIndex((h) => h.slug > cursor) : 0;
    const items = start < 0 ? [] : all.slice(start, start + limit);
    const last = items.at(-1);
    const more = start >= 0 && start + limit < all.length;
    return { items: structuredClone(items), ...(more && last ? { next: last.slug } : {}) };
  }
  async saveDraft(slug: string, draft: TemplateContent, revision: number, at: string) {
    const h = this.headsBySlug.get(slug);
    if (!h || h.revision !== revision) return false;
    this.headsBySlug.set(slug, { ...h, draft: structuredClone(draft), revision: revision + 1, updatedAt: at });
    return true;
  }
  async publish(slug: string, latestVersion: number, content: TemplateContent, at: string) {
    const h = this.headsBySlug.get(slug);
    if (!h || h.latestVersion !== latestVersion) return false;
    const version = latestVersion + 1;
    this.headsBySlug.set(slug, { ...h, latestVersion: version, updatedAt: at });
    this.versionsByKey.set(`${slug}@${version}`, { slug, version, content: structuredClone(content), publishedAt: at });
    return true;
  }
  async version(slug: string, version: number) {
    this.calls.push('version');
    const v = this.versionsByKey.get(`${slug}@${version}`);
    return v && structuredClone(v);
  }
  async versions(slug: string, limit: number) {
    const items = [...this.versionsByKey.values()]
      .filter((v) => v.slug === slug)
      .sort((a, b) => b.version - a.version)
      .slice(0, limit)
      .map(({ content: _c, ...rest }) => rest);
    return { items };
  }
  async activate(
    slug: string,
    next: { activeVersion: number; canary?: TemplateCanary | undefined },
    expected: { activeVersion: number; canaryVersion: number },
    at: string,
  ) {
    const h = this.headsBySlug.get(slug);
    if (!h || h.activeVersion !== expected.activeVersion || (h.canary?.version ?? 0) !== expected.canaryVersion) {
      return false;
    }
    const { canary: _old, ...rest } = h;
    this.headsBySlug.set(slug, {
      ...rest,
      activeVersion: next.activeVersion,
      ...(next.canary ? { canary: structuredClone(next.canary) } : {}),
      updatedAt: at,
    });
    return true;
  }
  async count(slug: string, version: number, add: Partial<TemplateCounts>) {
    this.calls.push('count');
    const key = `${slug}@${version}`;
    const was = this.counts.get(key) ?? { sends: 0, renderFailures: 0, rejections: 0, bounces: 0, complaints: 0 };
    this.counts.set(
      key,
      Object.fromEntries(TEMPLATE_COUNTERS.map((c) => [c, was[c] + (add[c] ?? 0)])) as TemplateCounts,
    );
  }
  async stats(slug: string) {
    const out = new Map<number, TemplateCounts>();
    for (const [key, c] of this.counts) {
      const [s, v] = key.split('@');
      if (s === slug) out.set(Number(v), { ...c });
    }
    return out;
  }
}
