import { expect, it } from 'vitest';
import { SETTLED, STATUSES } from '../../../console/src/vocabulary';
import { STATUSES as API_STATUSES, TERMINAL } from '../../../functions/core/message';

it("offers exactly the API's statuses as filters", () => {
  expect([...STATUSES]).toEqual([...API_STATUSES]);
});

it('stops following an email once the API says it is terminal', () => {
  expect([...SETTLED].sort()).toEqual([...TERMINAL].sort());
});
