/**
 * DynamoDB alone, for adapter tests: dynalite on a free port with every table of lib/resources.ts
 * (the same key schemas the stack and the local stack create), a client, and a clean stop. Tests of
 * the DynamoDB adapters need nothing else of the local stack (no SQS, no SES, no pollers).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll } from 'vitest';
import { createTable } from '../../bin/local/provisioning';
import { documentClient } from '../../functions/store/dynamo';
import { TABLES, type TableName, type TableSpec } from '../../lib/resources';

export interface Dynalite {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** Table names by their key in TABLES. */
  readonly tables: Record<TableName, string>;
  /** Drops and creates every table again: a clean slate for the next test. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts dynalite on a free port of 127.0.0.1 and creates the tables of lib/resources.ts. */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const specs = Object.values(TABLES) as TableSpec[];
  const stop = async () => {
    client.destroy();
    await new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  };
  try {
    for (const spec of specs) await createTable(client, spec);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    endpoint,
    client,
    doc: documentClient(client),
    tables: Object.fromEntries(Object.entries(TABLES).map(([k, spec]) => [k, spec.id])) as Record<TableName, string>,
    reset: async () => {
      for (const spec of specs) {
        await client.send(new DeleteTableCommand({ TableName: spec.id }));
        await createTable(client, spec);
      }
    },
    stop,
  };
}

/**
 * Dynalite for the test file: started before its tests, stopped after. The returned object's
 * `db` is set once the tests run.
 */
export function useDynalite(): { readonly db: Dynalite } {
  const ctx = {} as { db: Dynalite };
  beforeAll(async () => {
    ctx.db = await startDynalite();
  });
  afterAll(async () => {
    await ctx.db?.stop();
  });
  return ctx;
}
