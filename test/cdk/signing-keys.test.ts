import { beforeAll, expect, it } from 'vitest';
import { type CfnResource, logicalId, resource, resourcesOfType, type Synthesized, synthesize } from './stack-fixture';

let s: Synthesized;
let secret: CfnResource;

beforeAll(() => {
  s = synthesize();
  secret = resource(s.template, logicalId(s.stack.signingKeys.secret));
});

it('is the only secret', () => {
  expect(Object.keys(resourcesOfType(s.template, 'AWS::SecretsManager::Secret'))).toEqual([
    logicalId(s.stack.signingKeys.secret),
  ]);
});

it('is generated as {"current":"k1","k1":"<48 letters and digits>"}', () => {
  expect(secret.Properties?.GenerateSecretString).toEqual({
    SecretStringTemplate: JSON.stringify({ current: 'k1' }),
    GenerateStringKey: 'k1',
    PasswordLength: 48,
    ExcludePunctuation: true,
  });
});

it('is retained when removed from the stack (links already sent must keep working)', () => {
  expect(secret).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
});

it('has no hard-coded name', () => {
  expect(secret.Properties?.Name).toBeUndefined();
});
