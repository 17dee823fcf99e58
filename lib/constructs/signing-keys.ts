import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRETS } from '../spec';

/** The environment variable through which functions learn the signing keys' secret (functions/config.ts). */
export const SIGNING_KEYS_ENV = SECRETS.signingKeys.env;

/** Id of the key the secret is created with; later keys are added by hand, and `current` moved to them. */
export const INITIAL_SIGNING_KEY_ID = 'k1';

/** Random characters of a generated key. */
export const SIGNING_KEY_LENGTH = 48;

export interface SigningKeysProps {
  /**
   * What happens to the secret when it leaves the stack. Links already sent are signed with its keys,
   * so deleting it breaks every unsubscribe link in mail already delivered.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The keys that sign the public links written into emails (one-click unsubscribe): a Secrets Manager
 * secret holding `{"current":"k1","k1":"<48 random letters and digits>"}`. To rotate, add a key
 * (`"k2": "…"`) and point `current` at it; keep the old key for as long as its links should work.
 */
export class SigningKeys extends Construct {
  public readonly secret: Secret;

  constructor(scope: Construct, id: string, props: SigningKeysProps = {}) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: 'mailroute: keys that sign the unsubscribe links in emails ({"current": id, id: key, ...})',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ current: INITIAL_SIGNING_KEY_ID }),
        generateStringKey: INITIAL_SIGNING_KEY_ID,
        passwordLength: SIGNING_KEY_LENGTH,
        excludePunctuation: true,
      },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is a keyring that rotates by key id, by hand: add a key, point "current" at it, and keep the ' +
        'old key while links signed with it should still work. Secrets Manager rotation would replace the secret ' +
        'value, and unless its Lambda reimplemented that keyring logic, every unsubscribe, open and click link in ' +
        'mail already delivered would stop verifying. No credential of another system is stored here.',
    });
  }
}
