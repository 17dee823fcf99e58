/**
 * POST /v1/attachments: a presigned PUT URL for a file too large for an API request. The client says
 * the file's name, type and size; the name and type are checked as an attachment's are, the size
 * against the per-file limit, and the URL takes exactly that many bytes for 15 minutes. The id it
 * returns is then given as `attachmentId` on any number of emails for a day; the bytes are sniffed
 * and checked when an email uses them (app/attachments.ts).
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { ATTACHMENT_LIMITS, DENIED_EXTENSIONS, extensionOf, filenameProblem } from '../core/attachment';
import { contentKey } from '../core/content-keys';
import { DomainError } from '../core/errors';
import type { RouteKey } from '../core/routes';
import { API_ERRORS } from '../core/zod-locale';
import type { UploadSigner } from '../ports';
import type { RouteMap } from './http';

export const UploadRequest = /* @__PURE__ */ (() =>
  z.strictObject({
    filename: z.string().check(z.minLength(1), z.maxLength(ATTACHMENT_LIMITS.filename)),
    contentType: z.string().check(z.regex(/^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i)),
    /** Bytes the client will PUT, exactly. */
    size: z.number().check(z.int(), z.gte(1), z.lte(ATTACHMENT_LIMITS.fileBytes)),
  }))();

export interface UploadDeps {
  readonly uploads: UploadSigner;
  readonly now: () => Date;
  readonly newId?: () => string;
}

export type UploadRouteKey = Extract<RouteKey<'ingest'>, 'POST /v1/attachments'>;

export function uploadRoutes(deps: UploadDeps): RouteMap<UploadRouteKey> {
  const newId = deps.newId ?? randomUUID;
  return {
    'POST /v1/attachments': {
      auth: 'send',
      maxBodyBytes: 4096,
      handle: async (req) => {
        if (req.body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
        const parsed = UploadRequest.safeParse(req.body, API_ERRORS);
        if (!parsed.success) {
          throw new DomainError(
            'validation_failed',
            `Give filename, contentType and size (1 to ${ATTACHMENT_LIMITS.fileBytes} bytes).`,
            parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message })),
          );
        }
        const { filename, contentType, size } = parsed.data;
        const problem =
          filenameProblem(filename) ??
          (DENIED_EXTENSIONS.has(extensionOf(filename))
            ? `files of type ".${extensionOf(filename)}" (executables and scripts) are refused`
            : undefined);
        if (problem)
          throw new DomainError('validation_failed', 'The file was refused.', [{ path: 'filename', message: problem }]);
        const nowMs = deps.now().getTime();
        const id = `up-${String(Math.floor(nowMs / 1000)).padStart(10, '0')}-${newId()}`;
        const uploadUrl = await deps.uploads.presignPut(
          contentKey('uploads', id),
          contentType,
          size,
          ATTACHMENT_LIMITS.uploadUrlSeconds,
        );
        return {
          status: 201,
          body: {
            id,
            uploadUrl,
            expiresAt: new Date(nowMs + ATTACHMENT_LIMITS.uploadUrlSeconds * 1000).toISOString(),
            /** The headers the PUT must carry (they are signed). */
            headers: { 'Content-Type': contentType, 'Content-Length': String(size) },
            /** Until when emails may name the file by its id. */
            usableUntil: new Date(
              (Math.floor(nowMs / 1000) + ATTACHMENT_LIMITS.uploadUsableSeconds) * 1000,
            ).toISOString(),
          },
        };
      },
    },
  };
}
