import * as z from 'zod/mini';
import { SendEmailBody } from '../functions/core/email';

const s = z.toJSONSchema(SendEmailBody, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
console.log(JSON.stringify(s, null, 1).slice(0, 3000));
