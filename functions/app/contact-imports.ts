/**
 * The CSV import API: create an import (a presigned PUT URL for the file, into the content store),
 * start it once the file is uploaded (a job on the audience jobs queue; the audience worker runs
 * app/contact-import.ts), and read its status, counts and refused rows.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { CATEGORY_PATTERN, CONSENT_SOURCE, LIST_ID } from '../core/contact-fields';
import { type ContactImport, IMPORT_LIMITS, NO_COUNTS } from '../core/contact-import';
import { contentKey } from '../core/content-keys';
import { DomainError } from '../core/errors';
import type { RouteKey } from '../core/routes';
import type { ContactImportStore, ContactStore, SendQueue, UploadSigner } from '../ports';
import type { Caller } from './auth';
import { parseBody, pathParam } from './contact-params';
import type { RouteMap } from './http';

/** The content type the upload URL is signed for. */
export const IMPORT_CONTENT_TYPE = 'text/csv';

export const CreateImportBody = /* @__PURE__ */ (() =>
  z.strictObject({
    /** Bytes the client will PUT, exactly (the URL is signed for them). */
    size: z.number().check(z.int(), z.gte(1), z.lte(IMPORT_LIMITS.fileBytes)),
    listId: z.optional(
      z.string().check(z.regex(LIST_ID, 'a list id is a lower case letter or digit, then letters, digits, - or _')),
    ),
    consent: z.optional(
      z.strictObject({
        category: z
          .string()
          .check(
            z.regex(
              CATEGORY_PATTERN,
              'a consent category is a lower case letter or digit, then letters, digits, - or _',
            ),
          ),
        source: z.optional(
          z.string().check(z.regex(CONSENT_SOURCE, 'a source is a lower case letter, then letters, digits, - or _')),
        ),
      }),
    ),
  }))();

/** The job the audience worker runs for an import. */
export interface ImportJob {
  readonly kind: 'import';
  readonly importId: string;
}

/** Where an import's file lives in the content store. */
export const importFileKey = (id: string) => contentKey('imports', id, 'contacts.csv');

const IMPORT_ID = /^imp-[A-Za-z0-9-]{1,64}$/;

export interface ContactImportApiDeps {
  readonly store: ContactStore;
  readonly imports: ContactImportStore;
  readonly uploads: UploadSigner;
  /** The audience jobs queue. */
  readonly jobs: SendQueue;
  readonly now: () => Date;
  readonly newId?: () => string;
}

export type ContactImportRouteKey = Extract<RouteKey<'ingest'>, `${string} /v1/contacts/imports${string}`>;

export function contactImportRoutes(deps: ContactImportApiDeps): RouteMap<ContactImportRouteKey> {
  const newId = deps.newId ?? randomUUID;

  async function importOf(id: string): Promise<ContactImport> {
    const found = IMPORT_ID.test(id) ? await deps.imports.get(id) : undefined;
    if (!found) throw new DomainError('not_found', `No import ${JSON.stringify(id.slice(0, 100))}.`);
    return found;
  }

  const view = async (imp: ContactImport) => ({
    id: imp.id,
    status: imp.status,
    listId: imp.listId ?? null,
    consent: imp.consent ?? null,
    counts: imp.counts,
    refused: imp.counts.refused > 0 ? (await deps.imports.refusals(imp.id)).slice(0, IMPORT_LIMITS.refusalsKept) : [],
    ...(imp.error ? { error: imp.error } : {}),
    createdAt: imp.createdAt,
    updatedAt: imp.updatedAt,
  });

  return {
    'POST /v1/contacts/imports': {
      auth: 'admin',
      maxBodyBytes: 4096,
      handle: async (req) => {
        const body = parseBody(CreateImportBody, req, 'import');
        if (body.listId !== undefined && !(await deps.store.getList(body.listId)))
          throw new DomainError('validation_failed', 'The import is not valid.', [
            { path: 'listId', message: `no list "${body.listId}"` },
          ]);
        const now = deps.now();
        const at = now.toISOString();
        const imp: ContactImport = {
          id: `imp-${newId()}`,
          status: 'waiting_upload',
          ...(body.listId === undefined ? {} : { listId: body.listId }),
          ...(body.consent
            ? { consent: { category: body.consent.category, source: body.consent.source ?? 'import' } }
            : {}),
          size: body.size,
          createdAt: at,
          updatedAt: at,
          counts: NO_COUNTS,
          line: 1,
          createdBy: (req.caller as Caller).keyName,
        };
        const uploadUrl = await deps.uploads.presignPut(
          importFileKey(imp.id),
          IMPORT_CONTENT_TYPE,
          body.size,
          IMPORT_LIMITS.uploadUrlSeconds,
        );
        if (!(await deps.imports.create(imp))) throw new DomainError('conflict', 'Try again: the import id was taken.');
        return {
          status: 201,
          body: {
            id: imp.id,
            status: imp.status,
            uploadUrl,
            expiresAt: new Date(now.getTime() + IMPORT_LIMITS.uploadUrlSeconds * 1000).toISOString(),
            /** The headers the PUT must carry (they are signed). */
            headers: { 'Content-Type': IMPORT_CONTENT_TYPE, 'Content-Length': String(body.size) },
          },
        };
      },
    },

    'POST /v1/contacts/imports/{id}/start': {
      auth: 'admin',
      handle: async (req) => {
        const imp = await importOf(pathParam(req, 'id'));
        const at = deps.now().toISOString();
        const queued = await deps.imports.move(imp.id, ['waiting_upload'], 'queued', at);
        if (!queued) throw new DomainError('conflict', `The import is ${imp.status}; it starts once.`);
        const job: ImportJob = { kind: 'import', importId: imp.id };
        let failed: string[];
        try {
          failed = await deps.jobs.send([{ id: imp.id, body: JSON.stringify(job) }]);
        } catch (e) {
          failed = [imp.id];
          await deps.imports.move(imp.id, ['queued'], 'waiting_upload', at);
          throw e;
        }
        if (failed.length > 0) {
          // Not queued: the import waits to be started again, as before the request.
          await deps.imports.move(imp.id, ['queued'], 'waiting_upload', at);
          throw new DomainError('unavailable', 'The import could not be queued; start it again.');
        }
        return { status: 202, body: await view(queued) };
      },
    },

    'GET /v1/contacts/imports/{id}': {
      auth: 'read',
      handle: async (req) => ({ status: 200, body: await view(await importOf(pathParam(req, 'id'))) }),
    },
  };
}
