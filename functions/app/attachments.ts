/**
 * Attachments at accept time (claim-check): each file is decoded (or read back from its upload),
 * sniffed with file-type, checked (core/attachment.ts), and kept in the content store under a key
 * named by its SHA-256, so a batch that sends the same file to many recipients stores it once (an
 * uploaded file is referenced where it was uploaded, never copied). The
 * queued email then carries only references. Any problem refuses the whole request with a 422 that
 * names the attachment, and nothing is queued.
 */
import { createHash } from 'node:crypto';
import {
  ATTACHMENT_LIMITS,
  type AttachmentFacts,
  type AttachmentInput,
  type AttachmentRef,
  checkAttachments,
  effectiveType,
} from '../core/attachment';
import { contentKey } from '../core/content-keys';
import { DomainError, type FieldIssue } from '../core/errors';
import type { ContentStore } from '../ports';

export interface AttachmentDeps {
  readonly content: ContentStore;
  readonly now: () => Date;
}

type FileType = typeof import('file-type');
let loading: Promise<FileType> | undefined;
/** file-type, loaded with the first attachment (most requests have none; the API's cold start does not pay for it). */
const fileType = (): Promise<FileType> =>
  (loading ??= import('file-type').catch((error: unknown) => {
    loading = undefined;
    throw error;
  }));

/** What file-type recognises in the bytes (its MIME type), or undefined. */
export async function sniff(bytes: Uint8Array): Promise<string | undefined> {
  const { fileTypeFromBuffer } = await fileType();
  return (await fileTypeFromBuffer(bytes))?.mime;
}

/** The upload key of an attachment id (`up-<epoch seconds>-<uuid>`), and when it stops being usable. */
export function uploadOf(attachmentId: string): { key: string; usableUntilMs: number } {
  const seconds = Number(attachmentId.slice(3, 13));
  return {
    key: contentKey('uploads', attachmentId),
    usableUntilMs: (seconds + ATTACHMENT_LIMITS.uploadUsableSeconds) * 1000,
  };
}

interface Loaded {
  readonly bytes: Uint8Array;
  readonly facts: AttachmentFacts;
  /** An uploaded file stays where it is (no second copy of a large file): its key. */
  readonly uploadKey?: string;
}

/** The bytes of one attachment, or the problem with it; an upload is read once per request (`uploads`). */
function load(
  deps: AttachmentDeps,
  a: AttachmentInput,
  uploads: Map<string, Promise<Uint8Array | string>>,
): Promise<Uint8Array | string> {
  if (a.content !== undefined) return Promise.resolve(Buffer.from(a.content, 'base64'));
  const id = a.attachmentId as string;
  const known = uploads.get(id);
  if (known) return known;
  const read = (async () => {
    const upload = uploadOf(id);
    if (deps.now().getTime() > upload.usableUntilMs) return `attachment ${id} has expired; upload the file again`;
    const bytes = await deps.content.get(upload.key);
    return bytes ?? `no file was uploaded for attachment ${id} (upload it with the URL from POST /v1/attachments)`;
  })();
  uploads.set(id, read);
  return read;
}

/**
 * Checks and stores the attachments of every email of a request; their references, in order
 * (undefined for an email without attachments). `pathOf(i)` names email i in error paths
 * (`emails.3` in a batch, '' for a single email).
 */
export async function storeAttachments(
  deps: AttachmentDeps,
  emails: readonly {
    readonly attachments?: readonly AttachmentInput[] | undefined;
    readonly html?: string | undefined;
  }[],
  pathOf: (index: number) => string,
): Promise<(AttachmentRef[] | undefined)[]> {
  const issues: FieldIssue[] = [];
  const at = (i: number, rest: string) => [pathOf(i), rest].filter((p) => p !== '').join('.');
  const loaded: (Loaded[] | undefined)[] = [];
  // A batch naming one upload in every email reads it once, not once per email.
  const uploads = new Map<string, Promise<Uint8Array | string>>();
  for (const [i, email] of emails.entries()) {
    const given = email.attachments ?? [];
    if (given.length === 0) {
      // Without attachments, a `cid:` in the HTML points at nothing.
      for (const issue of checkAttachments([], email.html))
        issues.push({ path: at(i, issue.field ?? ''), message: issue.message });
      loaded.push(undefined);
      continue;
    }
    const parts: Loaded[] = [];
    for (const [j, a] of given.entries()) {
      const bytes = await load(deps, a, uploads);
      if (typeof bytes === 'string') {
        issues.push({ path: at(i, `attachments.${j}.attachmentId`), message: bytes });
        continue;
      }
      parts.push({
        bytes,
        ...(a.attachmentId !== undefined ? { uploadKey: uploadOf(a.attachmentId).key } : {}),
        facts: {
          filename: a.filename,
          declaredType: a.contentType,
          sniffedType: bytes.length > 0 ? await sniff(bytes) : undefined,
          size: bytes.length,
          disposition: a.disposition,
          contentId: a.contentId,
        },
      });
    }
    if (parts.length === given.length) {
      for (const issue of checkAttachments(
        parts.map((p) => p.facts),
        email.html,
      )) {
        const where = issue.index === undefined ? 'attachments' : `attachments.${issue.index}`;
        const path = issue.field === 'html' ? at(i, 'html') : at(i, issue.field ? `${where}.${issue.field}` : where);
        issues.push({ path, message: issue.message });
      }
    }
    loaded.push(parts);
  }
  if (issues.length > 0) {
    throw new DomainError('validation_failed', 'Some attachments were refused; nothing was sent.', issues);
  }

  // Stored once per distinct content; a retried request stores the same keys again, harmlessly.
  const stored = new Map<string, Promise<void>>();
  const refs = loaded.map((parts) =>
    parts?.map(({ bytes, facts, uploadKey }): AttachmentRef => {
      const key = uploadKey ?? contentKey('attachments', createHash('sha256').update(bytes).digest('hex'));
      const type = effectiveType(facts);
      if (uploadKey === undefined && !stored.has(key)) stored.set(key, deps.content.put(key, bytes, type));
      return {
        filename: facts.filename.trim(),
        contentType: type,
        disposition: facts.disposition,
        ...(facts.contentId !== undefined ? { contentId: facts.contentId } : {}),
        key,
        size: facts.size,
      };
    }),
  );
  await Promise.all(stored.values());
  return refs;
}
