import { RemovalPolicy } from 'aws-cdk-lib';
import { type Attribute, AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { type KeyType, TABLES, type TableName, type TableSpec } from '../resources';

const ATTRIBUTE_TYPES: Readonly<Record<KeyType, AttributeType>> = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
};

const attribute = (key: TableSpec['partitionKey']): Attribute => ({ name: key.name, type: ATTRIBUTE_TYPES[key.type] });

export interface MailrouteTablesProps {
  /**
   * What happens to the tables (and their data) when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One on-demand DynamoDB table per entry of `TABLES` (lib/resources.ts): key schema and TTL from the
 * spec, point-in-time recovery on, encrypted at rest (AWS-owned key), retained when the stack is deleted.
 */
export class MailrouteTables extends Construct {
  /** The tables, by their key in `TABLES`. */
  public readonly tables: { readonly [K in TableName]: TableV2 };

  constructor(scope: Construct, id: string, props: MailrouteTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const tables: Partial<Record<TableName, TableV2>> = {};
    for (const [name, spec] of Object.entries(TABLES) as [TableName, TableSpec][]) {
      tables[name] = new TableV2(this, spec.id, {
        partitionKey: attribute(spec.partitionKey),
        sortKey: spec.sortKey && attribute(spec.sortKey),
        timeToLiveAttribute: spec.ttlAttribute,
        billing: Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryptionV2.dynamoOwnedKey(),
        removalPolicy,
      });
    }
    this.tables = tables as Record<TableName, TableV2>;
  }
}
