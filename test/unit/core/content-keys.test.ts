import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_KINDS,
  CONTENT_PREFIXES,
  contentKey,
  contentKindOf,
  isContentKey,
} from '../../../functions/core/content-keys';

const segment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}$/);

describe('content keys', () => {
  it('builds each kind under its prefix, and reads the kind back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CONTENT_KINDS),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        (kind, parts) => {
          const key = contentKey(kind, ...parts);
          expect(key.startsWith(CONTENT_PREFIXES[kind])).toBe(true);
          expect(contentKindOf(key)).toBe(kind);
          expect(isContentKey(key)).toBe(true);
        },
      ),
    );
  });

  it.each([['..'], ['a/../b'], [''], ['a//b'], ['/a'], ['a b'], ['a\nb'], ['é']])(
    'refuses the unsafe part %j',
    (part) => {
      expect(() => contentKey('attachments', part)).toThrow(/unsafe/);
    },
  );

  it.each(['attachments/', 'elsewhere/x', 'Attachments/x', 'attachments/../x', 'attachments/a//b'])(
    'does not take %j for a content key',
    (key) => {
      expect(isContentKey(key)).toBe(false);
    },
  );
});
