/**
 * Schemas use zod/mini: tree-shakable, so each Lambda bundles only the validators it uses
 * (≈16 KB instead of ≈90 KB) and starts faster. English error messages are configured once here.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
