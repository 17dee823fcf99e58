/**
 * The dispatcher's side of the claim-check: an email's parts that wait in the content store (a body
 * too large for the queue, its attachments) are read back before it is prepared for a provider. One
 * reader serves one batch: a file shared by the batch's emails (a newsletter's PDF) is read once.
 * A part that is missing (expired, or never stored) fails the email's step, so it is retried and, once
 * its receives run out, ends `failed` with the reason.
 */
import type { QueuedEmail } from '../core/queued-email';
import type { Recipients } from '../core/recipients';
import type { ContentStore, OutboundAttachment } from '../ports';
import type { PrepareOutbound } from './outbound';

/** Wraps a batch's preparer: bodies are read back before it runs, attachments added after. */
export function withStoredParts(prepare: PrepareOutbound, content: ContentStore): PrepareOutbound {
  const reads = new Map<string, Promise<Uint8Array>>();
  const read = (key: string): Promise<Uint8Array> => {
    let pending = reads.get(key);
    if (!pending) {
      pending = content.get(key).then((bytes) => {
        if (bytes === undefined) throw new Error(`content ${key} is missing from the content store`);
        return bytes;
      });
      // A failed read is tried again by the next email that needs it.
      pending.catch(() => reads.delete(key));
      reads.set(key, pending);
    }
    return pending;
  };

  async function withBody(email: QueuedEmail): Promise<QueuedEmail> {
    if (email.bodyKey === undefined) return email;
    const body = JSON.parse(new TextDecoder().decode(await read(email.bodyKey))) as { html?: string; text?: string };
    return {
      ...email,
      ...(typeof body.html === 'string' ? { html: body.html } : {}),
      ...(typeof body.text === 'string' ? { text: body.text } : {}),
    };
  }

  return async (email: QueuedEmail, recipients: Recipients) => {
    const [full, files] = await Promise.all([
      withBody(email),
      Promise.all(
        (email.attachments ?? []).map(
          async (a): Promise<OutboundAttachment> => ({
            filename: a.filename,
            contentType: a.contentType,
            disposition: a.disposition,
            ...(a.contentId !== undefined ? { contentId: a.contentId } : {}),
            content: await read(a.key),
          }),
        ),
      ),
    ]);
    const outbound = await prepare(full, recipients);
    return files.length > 0 ? { ...outbound, files } : outbound;
  };
}
